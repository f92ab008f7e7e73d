import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabase, type Database } from "db0";
import libsql from "db0/connectors/libsql/node";
import { afterAll, describe, expect, it } from "vitest";
import { createSqlLedger } from "../../src/stores/ledger/sql";
import { describeLedgerStore, line } from "./_ledger-suite";
import { describeSqlLedgerCases } from "./_ledger-sql-cases";

// Real SQLite files through libsql (db0's `libsql` connector), one per test.
const dir = mkdtempSync(join(tmpdir(), "agentgate-ledger-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const connect = (file: string) => createDatabase(libsql({ url: `file:${file}` }));

describeLedgerStore(
  "SQLite (libsql)",
  async () => {
    const file = join(dir, `ledger-${++files}.db`);
    let db: Database = connect(file);
    return {
      ledger: createSqlLedger({ db }),
      // Another Database on the same file, as a restarted process would open it.
      reopen: async () => {
        await db.dispose();
        db = connect(file);
        return createSqlLedger({ db });
      },
      cleanup: () => db.dispose(),
    };
  },
  { persistent: true },
);

const shared = join(dir, "shared.db");
describeSqlLedgerCases("SQLite (libsql)", { connector: "libsql", url: () => `file:${shared}`, connect: () => connect(shared) });

describe("the SQLite SQL ledger's file", () => {
  const journal = async (db: Database) => Object.values((await db.prepare("PRAGMA journal_mode").get()) as object)[0];

  it("switches the file to WAL on first use, so several processes can append, and leaves it alone with wal: false", async () => {
    const walFile = join(dir, "wal.db");
    const db = connect(walFile);
    await createSqlLedger({ db }).append(line("acct_1", Date.UTC(2026, 10, 1)));
    expect(await journal(db)).toBe("wal");
    await db.dispose();

    const keptFile = join(dir, "kept.db");
    const kept = connect(keptFile);
    await createSqlLedger({ db: kept, wal: false }).append(line("acct_1", Date.UTC(2026, 10, 1)));
    expect(await journal(kept)).toBe("delete");
    await kept.dispose();
  });

  it("refuses a database that is neither SQLite nor PostgreSQL", () => {
    expect(() => createSqlLedger({ db: { dialect: "mysql" } as Database })).toThrow(/SQLite or PostgreSQL, not mysql/);
  });
});
