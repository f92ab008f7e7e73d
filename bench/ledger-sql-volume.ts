// `node --import tsx bench/ledger-sql-volume.ts [100000,1000000]`: the SQL ledger at volume.
// One account, N lines over 30 days (5 agents, 10 keys, 4 models, 1 % credits), on a SQLite
// file (libsql, WAL) and on a real PostgreSQL (Debian's, fsync on). Prints bytes on disk and
// the median time (of 21) of: a page of 100 from the start, one from the middle by cursor,
// a filtered page, the 30-day summaries by day and by model, the total, and an append.
// Loading goes in bulk (multi-row INSERTs of 500 lines; on SQLite 10,000 lines a commit, on
// PostgreSQL one statement a commit, as updating one totals row 10,000 times in one
// transaction chains 10,000 row versions); the trigger rolls up every row as for `append`.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabase, type Database, type Primitive } from "db0";
import libsql from "db0/connectors/libsql/node";
import postgresql from "db0/connectors/postgresql";
import { createSqlLedger } from "../src/stores/ledger/sql";
import { ledgerTables } from "../src/stores/ledger/sql-schema";
import type { LedgerEntry, LedgerStore } from "../src/stores/ledger/types";
import { startPostgres } from "../test/_postgres";

const sizes = (process.argv[2] ?? "100000,1000000").split(",").map(Number);
const DAYS = 30;
const T0 = Date.UTC(2026, 10, 1);
const ACCOUNT = "acct_bench";
const COLUMNS = "account_id, id, created_ms, created_at, day, type, amount_micros, agent_id, key_id, model, thread_id, prompt_tokens, completion_tokens";

/** Line i of n, spread evenly over 30 days, ids sorting by time as the gateway's do. */
function benchLine(i: number, n: number): LedgerEntry {
  const at = T0 + Math.floor((i * DAYS * 86_400_000) / n);
  const credit = i % 100 === 99;
  return {
    id: `led_${at.toString(36).padStart(9, "0")}${i.toString(36).padStart(8, "0")}`,
    account_id: ACCOUNT,
    type: credit ? "credit" : "charge",
    amount_micros: credit ? 5_000_000 : -(100 + (i % 900)),
    created_at: new Date(at).toISOString(),
    agent_id: credit ? null : `agt_${i % 5}`,
    key_id: credit ? null : `key_${i % 10}`,
    model: credit ? null : ["openai/gpt-4o-mini", "anthropic/claude-haiku", "gemini/flash", "echo/echo"][i % 4],
    thread_id: credit ? null : `thr_${Math.floor(i / 20)}`,
    prompt_tokens: credit ? undefined : 200 + (i % 300),
    completion_tokens: credit ? undefined : 50 + (i % 200),
  };
}

function row(entry: LedgerEntry): Primitive[] {
  return [entry.account_id, entry.id, Date.parse(entry.created_at), entry.created_at, entry.created_at.slice(0, 10), entry.type, entry.amount_micros, entry.agent_id ?? null, entry.key_id ?? null, entry.model ?? null, entry.thread_id ?? null, entry.prompt_tokens ?? null, entry.completion_tokens ?? null];
}

async function load(db: Database, prefix: string, n: number, perCommit: number): Promise<number> {
  const { lines } = ledgerTables(prefix);
  const started = performance.now();
  const perStatement = 500;
  for (let from = 0; from < n; from += perCommit) {
    if (perCommit > perStatement) await db.exec("BEGIN");
    for (let i = from; i < Math.min(from + perCommit, n); i += perStatement) {
      const count = Math.min(perStatement, n - i);
      const values = Array.from({ length: count }, () => `(${Array(13).fill("?").join(", ")})`).join(", ");
      await db.prepare(`INSERT INTO ${lines} (${COLUMNS}) VALUES ${values}`).run(...Array.from({ length: count }, (_, k) => row(benchLine(i + k, n))).flat());
    }
    if (perCommit > perStatement) await db.exec("COMMIT");
  }
  return performance.now() - started;
}

/** Lines a second that `connections` stores on their own connections append to one account at once. */
async function concurrentAppends(connect: () => Database, prefix: string, n: number, connections = 4, each = 250): Promise<number> {
  const dbs = Array.from({ length: connections }, connect);
  const stores = dbs.map((db) => createSqlLedger({ db, prefix }));
  await Promise.all(stores.map((store) => store.total(ACCOUNT)));
  const started = performance.now();
  await Promise.all(stores.map((store, s) => Promise.all(Array.from({ length: each }, (_, k) => store.append({ ...benchLine(n + k, n), id: `led_zy${s}_${String(k).padStart(6, "0")}` })))));
  const seconds = (performance.now() - started) / 1000;
  for (const db of dbs) await db.dispose();
  return (connections * each) / seconds;
}

async function median(run: () => Promise<unknown>, times = 21): Promise<number> {
  await run();
  const samples: number[] = [];
  for (let k = 0; k < times; k++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b)[Math.floor(times / 2)];
}

async function measure(ledger: LedgerStore, n: number): Promise<Record<string, number>> {
  const middle = benchLine(Math.floor(n / 2), n).id;
  const from = "2026-11-01";
  const to = "2026-11-30";
  const check = await ledger.page(ACCOUNT, { after: middle });
  if (check.entries.length !== 100 || check.entries[0].id <= middle) throw new Error("the middle page is wrong");
  const byDay = await ledger.summarize(ACCOUNT, { from, to, groupBy: ["day"] });
  if (byDay.length !== DAYS || byDay.reduce((sum, r) => sum + r.lines, 0) !== n) throw new Error("the summary is wrong");
  let appended = 0;
  return {
    "page of 100, from the start": await median(() => ledger.page(ACCOUNT)),
    "page of 100, from the middle (cursor)": await median(() => ledger.page(ACCOUNT, { after: middle })),
    "page of 100, middle, agent filter": await median(() => ledger.page(ACCOUNT, { after: middle, agentId: "agt_3" })),
    "summary, 30 days by day": await median(() => ledger.summarize(ACCOUNT, { from, to, groupBy: ["day"] })),
    "summary, 30 days by model": await median(() => ledger.summarize(ACCOUNT, { from, to, groupBy: ["model"] })),
    "summary, 30 days by day × model": await median(() => ledger.summarize(ACCOUNT, { from, to, groupBy: ["day", "model"] })),
    total: await median(() => ledger.total(ACCOUNT)),
    "append (one line, committed)": await median(() => ledger.append({ ...benchLine(n + appended++, n), id: `led_zz${String(appended).padStart(8, "0")}` })),
  };
}

type Result = { name: string; n: number; loadMs: number; bytes: Record<string, number>; times: Record<string, number> };
const results: Result[] = [];
const dir = mkdtempSync(join(tmpdir(), "agentgate-ledger-bench-"));
const pg = await startPostgres({ durable: true });
try {
  for (const n of sizes) {
    // SQLite: a file of its own per size.
    const file = join(dir, `ledger-${n}.db`);
    const sqlite = createDatabase(libsql({ url: `file:${file}` }));
    const onSqlite = createSqlLedger({ db: sqlite });
    await onSqlite.total(ACCOUNT);
    const sqliteLoad = await load(sqlite, "agentgate_", n, 10_000);
    await sqlite.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const sqliteTimes = await measure(onSqlite, n);
    sqliteTimes["appends/s, 4 connections, one account"] = await concurrentAppends(() => createDatabase(libsql({ url: `file:${file}` })), "agentgate_", n);
    await sqlite.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    results.push({ name: "SQLite (libsql)", n, loadMs: sqliteLoad, bytes: await sqliteBytes(sqlite, file), times: sqliteTimes });
    await sqlite.dispose();
    rmSync(file, { force: true });

    // PostgreSQL: a prefix of its own per size on one server.
    const prefix = `bench${n}_`;
    const postgres = createDatabase(postgresql({ url: pg.url }));
    const onPostgres = createSqlLedger({ db: postgres, prefix });
    await onPostgres.total(ACCOUNT);
    const postgresLoad = await load(postgres, prefix, n, 500);
    // The planner's statistics, as autovacuum would gather them soon. The bulk load's dead
    // versions of the upserted rows are compacted away (steady appends, one a transaction,
    // are pruned as they go), so the sizes are those of the live data.
    const { lines, rollups, totals } = ledgerTables(prefix);
    await postgres.exec(`VACUUM ANALYZE ${lines}`);
    for (const table of [rollups, totals]) await postgres.exec(`VACUUM FULL ANALYZE ${table}`);
    const postgresTimes = await measure(onPostgres, n);
    postgresTimes["appends/s, 4 connections, one account"] = await concurrentAppends(() => createDatabase(postgresql({ url: pg.url })), prefix, n);
    results.push({ name: "PostgreSQL 15", n, loadMs: postgresLoad, bytes: await postgresBytes(postgres, prefix), times: postgresTimes });
    await postgres.dispose();
    print();
  }
} finally {
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function sqliteBytes(db: Database, file: string): Promise<Record<string, number>> {
  const bytes: Record<string, number> = { file: statSync(file).size };
  try {
    // dbstat: bytes per table and index, where the build has it.
    for (const { name, size } of (await db.prepare("SELECT name, SUM(pgsize) AS size FROM dbstat GROUP BY name").all()) as { name: string; size: number }[]) bytes[name] = size;
  } catch {
    // no dbstat in this build: the file's size only
  }
  return bytes;
}

async function postgresBytes(db: Database, prefix: string): Promise<Record<string, number>> {
  const tables = ledgerTables(prefix);
  const bytes: Record<string, number> = {};
  for (const table of [tables.lines, tables.rollups, tables.totals]) {
    const [sizes] = (await db.prepare("SELECT pg_table_size(?) AS heap, pg_indexes_size(?) AS indexes").all(table, table)) as { heap: string; indexes: string }[];
    bytes[`${table} (heap)`] = Number(sizes.heap);
    bytes[`${table} (indexes)`] = Number(sizes.indexes);
  }
  return bytes;
}

function print(): void {
  const last = results.slice(-2);
  for (const result of last) {
    console.log(`\n## ${result.name}, ${result.n.toLocaleString("en")} lines (loaded in ${(result.loadMs / 1000).toFixed(1)} s, ${Math.round(result.n / (result.loadMs / 1000)).toLocaleString("en")} lines/s)`);
    for (const [name, size] of Object.entries(result.bytes)) console.log(`  ${name}: ${(size / 1048576).toFixed(1)} MiB (${Math.round(size / result.n)} B/line)`);
    for (const [name, value] of Object.entries(result.times)) console.log(`  ${name}: ${name.includes("/s") ? Math.round(value).toLocaleString("en") : `${value.toFixed(2)} ms`}`);
  }
}
