import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Database } from "db0";
import { afterEach, describe, expect, it } from "vitest";
import { createSqlLedger } from "../../src/stores/ledger/sql";
import { ADDED_COLUMNS, ledgerTables } from "../../src/stores/ledger/sql-schema";
import type { LedgerEntry, LedgerStore } from "../../src/stores/ledger/types";
import { line } from "./_ledger-suite";

/** How the SQL cases reach one database: a new connection to it each call, as another process would have. */
export interface SqlTarget {
  /** The connector the writer process uses, and its URL (the same database). */
  connector: "libsql" | "postgresql";
  url: () => string;
  connect: () => Database;
}

const WRITER = fileURLToPath(new URL("../fixtures/ledger-sql-writer.ts", import.meta.url));
const T0 = Date.UTC(2026, 10, 1, 12);
let prefixes = 0;

/** What the SQL driver promises beyond the conformance suite: several processes on one database, its schema, exact sums. */
export function describeSqlLedgerCases(name: string, target: SqlTarget): void {
  describe(`the ${name} SQL ledger`, () => {
    const opened: Database[] = [];
    const store = (prefix: string) => {
      const db = target.connect();
      opened.push(db);
      return createSqlLedger({ db, prefix });
    };
    afterEach(async () => {
      for (const db of opened.splice(0)) await db.dispose();
    });

    it("lands every append from two gateway processes writing at once, with exact totals and rollups, each shared id once", async () => {
      const prefix = `multi${++prefixes}_`;
      const ours = Array.from({ length: 600 }, (_, i) => line("acct_1", T0 + i, { amount_micros: -(i + 1), agent_id: `agt_${i % 3}` }));
      const theirs = Array.from({ length: 600 }, (_, i) => line("acct_1", T0 + i, { amount_micros: -(1000 + i), agent_id: `agt_${i % 3}` }));
      // Both processes write these at the same moment; each must land once.
      const shared = Array.from({ length: 100 }, (_, i) => line("acct_1", T0 + 5000 + i, { type: "credit", amount_micros: 7 + i, agent_id: null }));
      const ledger = store(prefix);
      const writer = await startWriter(target, prefix, [...theirs, ...shared]);
      writer.go();
      await Promise.all([...ours, ...shared].map((entry) => ledger.append(entry)));
      await writer.done;

      const all = [...ours, ...theirs, ...shared];
      expect(await ledger.total("acct_1")).toBe(all.reduce((sum, entry) => sum + entry.amount_micros, 0));
      expect((await allLines(ledger, "acct_1")).map((entry) => entry.id)).toEqual(all.map((entry) => entry.id).sort());
      const byAgent = await ledger.summarize("acct_1", { groupBy: ["agent"] });
      expect(byAgent.map((row) => [row.agent_id, row.lines])).toEqual([[null, 100], ["agt_0", 400], ["agt_1", 400], ["agt_2", 400]]);

      // A retry of a line the other process wrote, even with other contents, changes nothing.
      const other = store(prefix);
      const before = await ledger.total("acct_1");
      await other.append({ ...theirs[0], amount_micros: -999_999 });
      expect(await ledger.total("acct_1")).toBe(before);
      expect((await allLines(other, "acct_1")).find((entry) => entry.id === theirs[0].id)).toEqual(theirs[0]);
      expect((await other.summarize("acct_1")).at(0)?.lines).toBe(1300);
    }, 60_000);

    it("keeps a null agent, key or model apart from an empty one, in the lines and the rollups", async () => {
      const ledger = store(`nulls${++prefixes}_`);
      await ledger.append(line("acct_1", T0, { agent_id: null, key_id: null, model: null, amount_micros: -1 }));
      await ledger.append(line("acct_1", T0 + 1, { agent_id: "", key_id: "", model: "", amount_micros: -2 }));
      expect((await ledger.page("acct_1")).entries.map((entry) => [entry.agent_id, entry.key_id, entry.model])).toEqual([
        [null, null, null],
        ["", "", ""],
      ]);
      expect(await ledger.summarize("acct_1", { groupBy: ["agent", "key", "model"] })).toEqual([
        { agent_id: null, key_id: null, model: null, lines: 1, prompt_tokens: 10, completion_tokens: 5, amount_micros: -1 },
        { agent_id: "", key_id: "", model: "", lines: 1, prompt_tokens: 10, completion_tokens: 5, amount_micros: -2 },
      ]);
    });

    it("adds the cache and session columns to tables an earlier release made, keeping their lines, and rolls cache counts up from then on", async () => {
      const prefix = `legacy${++prefixes}_`;
      const old = line("acct_1", T0, { amount_micros: -3 });
      await store(prefix).append(old);
      // Back to the earlier release's tables: without the added columns and the cache trigger.
      const db = target.connect();
      opened.push(db);
      const tables = ledgerTables(prefix);
      await db.exec(target.connector === "postgresql" ? `DROP TRIGGER ${tables.rollUpCache} ON ${tables.lines}` : `DROP TRIGGER ${tables.rollUpCache}`);
      for (const { table, column } of ADDED_COLUMNS) await db.exec(`ALTER TABLE ${tables[table]} DROP COLUMN ${column}`);

      const upgraded = store(prefix);
      const cached = line("acct_1", T0 + 1, { amount_micros: -40, prompt_tokens: 900, cache_read_tokens: 800, cache_write_tokens: 50, session_id: "sess_1" });
      await upgraded.append(cached);
      expect(await allLines(upgraded, "acct_1")).toEqual([old, cached]);
      expect(await upgraded.summarize("acct_1")).toEqual([{ lines: 2, prompt_tokens: 910, completion_tokens: 10, cache_read_tokens: 800, cache_write_tokens: 50, amount_micros: -43 }]);
      expect(await store(prefix).total("acct_1")).toBe(-43);
    });

    it("keeps each prefix's ledger apart on one database, and finds its tables again from a new connection", async () => {
      const prefix = `apart${++prefixes}_`;
      await store(prefix).append(line("acct_1", T0, { amount_micros: -5 }));
      await store(`other${prefixes}_`).append(line("acct_1", T0, { amount_micros: -6 }));
      expect(await store(prefix).total("acct_1")).toBe(-5);
      expect(await store(`other${prefixes}_`).total("acct_1")).toBe(-6);
    });

    it("fails loudly when a sum outgrows 2^53 - 1 instead of answering it rounded", async () => {
      const ledger = store(`big${++prefixes}_`);
      await ledger.append(line("acct_1", T0, { type: "credit", amount_micros: Number.MAX_SAFE_INTEGER }));
      await ledger.append(line("acct_1", T0 + 1, { type: "credit", amount_micros: 2 }));
      await expect(ledger.total("acct_1")).rejects.toThrow(RangeError);
      await expect(ledger.summarize("acct_1")).rejects.toThrow(RangeError);
      // Each line on its own is still exact.
      expect((await ledger.page("acct_1")).entries.map((entry) => entry.amount_micros)).toEqual([Number.MAX_SAFE_INTEGER, 2]);
    });

    it("refuses a table prefix that would need quoting, and refuses to be used once closed", async () => {
      expect(() => createSqlLedger({ db: target.connect(), prefix: "x; DROP TABLE y; --" })).toThrow(TypeError);
      const ledger = store(`closed${++prefixes}_`);
      await ledger.close();
      await expect(ledger.total("acct_1")).rejects.toThrow(/closed/);
    });
  });
}

/** Every line of an account, page by page. */
async function allLines(ledger: LedgerStore, accountId: string): Promise<LedgerEntry[]> {
  const seen: LedgerEntry[] = [];
  for (let after: string | undefined; ; ) {
    const page = await ledger.page(accountId, { after, limit: 1000 });
    seen.push(...page.entries);
    if (!page.hasMore) return seen;
    after = page.entries.at(-1)!.id;
  }
}

/** The other process (test/fixtures/ledger-sql-writer.ts), its store open and waiting for `go`. */
async function startWriter(target: SqlTarget, prefix: string, lines: LedgerEntry[]): Promise<{ go: () => void; done: Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", WRITER], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (data: Buffer) => (stderr += data.toString()));
  const heard = new Set<string>();
  const waiting = new Map<string, () => void>();
  createInterface({ input: child.stdout! }).on("line", (text) => {
    heard.add(text);
    waiting.get(text)?.();
  });
  const said = (word: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the writer process did not say ${word} in 30s: ${stderr}`)), 30_000);
      child.once("exit", (code) => code !== 0 && reject(new Error(`the writer process exited with ${code}: ${stderr}`)));
      waiting.set(word, () => {
        clearTimeout(timer);
        resolve();
      });
      if (heard.has(word)) waiting.get(word)!();
    });
  const ready = said("ready");
  const done = said("done");
  // Awaited by the test later; this only keeps an early failure from counting as unhandled meanwhile.
  done.catch(() => {});
  child.stdin!.write(`${JSON.stringify({ connector: target.connector, url: target.url(), prefix, lines })}\n`);
  await ready;
  return { go: () => void child.stdin!.write("go\n"), done };
}
