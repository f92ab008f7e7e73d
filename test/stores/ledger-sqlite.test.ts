import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabase, type Database } from "db0";
import libsql from "db0/connectors/libsql/node";
import { afterAll } from "vitest";
import { createSqlLedger } from "../../src/stores/ledger/sql";
import { describeLedgerStore } from "./_ledger-suite";
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
