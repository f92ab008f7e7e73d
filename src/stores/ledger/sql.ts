// db0 is an optional peer, never loaded nor named by this module (the caller brings its Database).
import type { SqlDatabase as Database, SqlPrimitive as Primitive } from "./sql-database";
import { checkLedgerEntry, checkSummaryQuery, dayOf, pageSize } from "./rollups";
import { retryWhileBusy } from "./sql-busy";
import { ADDED_COLUMNS, ledgerSchema, ledgerTables, type LedgerDialect } from "./sql-schema";
import { inTurn, isSingleClient } from "./sql-turns";
import { entryFromRow, exactInteger, nullableText, type LineRow } from "./sql-values";
import type { LedgerEntry, LedgerQuery, LedgerStore, SummaryDimension, SummaryRow } from "./types";

export interface SqlLedgerOptions {
  /**
   * A db0 Database on SQLite or PostgreSQL (tested: the `libsql` connector on a file, and
   * `postgresql`; the README lists the others). It stays yours: `close()` does not dispose it.
   */
  db: Database;
  /** Starts every table's name. @default "agentgate_" */
  prefix?: string;
  /**
   * SQLite: how long (ms) a write waits for another connection's lock, set on a connection
   * that has no busy timeout of its own (without one, two processes on one file fail with SQLITE_BUSY).
   * @default 5000
   */
  busyTimeoutMs?: number;
  /**
   * SQLite: switch the database file to WAL on first use (it stays so). Several processes
   * can then append at once: a commit never waits for readers. In the default rollback
   * journal a commit refused as busy holds its lock while the writers starve each other.
   * @default true
   */
  wal?: boolean;
}

/**
 * The ledger in a SQL database through db0, the same code on SQLite and PostgreSQL. An
 * append is one INSERT: a trigger in the same statement adds the line to its day's rollup
 * and its account's total, so a line never lands without them, and a repeated id (once per
 * account) inserts nothing and so adds nothing. Tables are created on first use.
 */
export function createSqlLedger(options: SqlLedgerOptions): LedgerStore {
  const { db } = options;
  const dialect = dialectOf(db);
  const tables = ledgerTables(options.prefix);
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!(Number.isSafeInteger(busyTimeoutMs) && busyTimeoutMs >= 0)) throw new TypeError("[agentgate] `busyTimeoutMs` must be a whole number of milliseconds");
  let ready: Promise<void> | undefined;
  let closed = false;

  // SQLite may refuse a statement as busy without waiting (see retryWhileBusy); PostgreSQL waits for its locks.
  // A single pg Client takes one statement at a time (see inTurn).
  const single = isSingleClient(db);
  const send = <T>(run: () => Promise<T>) => (dialect === "sqlite" ? retryWhileBusy(run, busyTimeoutMs) : single ? inTurn(db, run) : run());
  const rows = (sql: string, params: Primitive[]) => send(() => db.prepare(sql).all(...params) as Promise<Record<string, unknown>[]>);

  const createSchema = async () => {
    if (dialect === "sqlite") {
      await setBusyTimeout(db, busyTimeoutMs);
      if (options.wal ?? true) await send(() => useWal(db));
    }
    const statements = ledgerSchema(dialect, tables);
    const isTrigger = (statement: string) => statement.startsWith("CREATE TRIGGER");
    for (const statement of statements.filter((s) => !isTrigger(s))) await send(() => db.exec(statement));
    if (dialect === "sqlite") await addMissingColumns();
    for (const statement of statements.filter(isTrigger)) await send(() => db.exec(statement));
  };
  // Tables made by an earlier release lack the columns added since; another process may be adding them too.
  const addMissingColumns = async () => {
    for (const { table, column, type } of ADDED_COLUMNS) {
      const present = await rows(`SELECT name FROM pragma_table_info('${tables[table]}')`, []);
      if (present.some((row) => row.name === column)) continue;
      try {
        await send(() => db.exec(`ALTER TABLE ${tables[table]} ADD COLUMN ${column} ${type === "text" ? "TEXT" : type}`));
      } catch (error) {
        if (!/duplicate column/i.test(String((error as Error)?.message ?? error))) throw error;
      }
    }
  };
  // Once per store; a failed attempt (database down) is tried again by the next call.
  const open = async () => {
    if (closed) throw new Error("[agentgate] this SQL ledger is closed");
    ready ??= createSchema().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    await ready;
  };

  const insertLine = `INSERT INTO ${tables.lines} (account_id, id, created_ms, created_at, day, type, amount_micros, agent_id, key_id, model, thread_id, prompt_tokens, completion_tokens, cache_read_tokens, cache_write_tokens, session_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, id) DO NOTHING`;

  return {
    async append(entry) {
      checkLedgerEntry(entry);
      await open();
      const params = lineParams(entry);
      await send(() => db.prepare(insertLine).run(...params));
    },

    async page(accountId, query = {}) {
      const limit = pageSize(query);
      const [where, params] = lineFilters(accountId, query);
      await open();
      const found = await rows(`SELECT ${LINE_COLUMNS} FROM ${tables.lines} WHERE ${where} ORDER BY id LIMIT ?`, [...params, limit + 1]);
      return { entries: found.slice(0, limit).map((row) => entryFromRow(row as unknown as LineRow)), hasMore: found.length > limit };
    },

    async summarize(accountId, query = {}) {
      checkSummaryQuery(query);
      const columns = [...new Set(query.groupBy ?? [])].map((dimension) => COLUMN[dimension]);
      const where = ["account_id = ?"];
      const params: Primitive[] = [accountId];
      if (query.from !== undefined) {
        where.push("day >= ?");
        params.push(query.from);
      }
      if (query.to !== undefined) {
        where.push("day <= ?");
        params.push(query.to);
      }
      const select = [...columns, "SUM(lines) AS lines", "SUM(prompt_tokens) AS prompt_tokens", "SUM(completion_tokens) AS completion_tokens", "SUM(cache_read_tokens) AS cache_read_tokens", "SUM(cache_write_tokens) AS cache_write_tokens", "SUM(amount_micros) AS amount_micros"];
      const group = columns.length ? ` GROUP BY ${columns.join(", ")} ORDER BY ${columns.map((column) => `${column} NULLS FIRST`).join(", ")}` : "";
      await open();
      const found = await rows(`SELECT ${select.join(", ")} FROM ${tables.rollups} WHERE ${where.join(" AND ")}${group}`, params);
      // Without groups, SQL answers one row of nulls when there is nothing to sum.
      return found.filter((row) => row.lines !== null && row.lines !== undefined).map((row) => summaryRow(row, columns));
    },

    async total(accountId) {
      await open();
      const [row] = await rows(`SELECT amount_micros FROM ${tables.totals} WHERE account_id = ?`, [accountId]);
      return row ? exactInteger(row.amount_micros, "total") : null;
    },

    async close() {
      closed = true;
    },
  };
}

// --- internal ---

const LINE_COLUMNS = "id, account_id, type, amount_micros, created_at, agent_id, key_id, model, thread_id, prompt_tokens, completion_tokens, cache_read_tokens, cache_write_tokens, session_id";

const COLUMN = { day: "day", agent: "agent_id", key: "key_id", model: "model", type: "type" } as const satisfies Record<SummaryDimension, keyof SummaryRow>;

type Column = (typeof COLUMN)[SummaryDimension];

function dialectOf(db: Database): LedgerDialect {
  if (db?.dialect === "sqlite" || db?.dialect === "libsql") return "sqlite";
  if (db?.dialect === "postgresql") return "postgresql";
  throw new TypeError(`[agentgate] the SQL ledger needs a db0 Database on SQLite or PostgreSQL, not ${db?.dialect ?? String(db)}`);
}

/** Sets a busy timeout on a SQLite connection that has none; remote SQLite (D1, a libsql server) may refuse the pragma and keeps its own locks. */
async function setBusyTimeout(db: Database, ms: number): Promise<void> {
  let current: unknown;
  try {
    current = await db.prepare("PRAGMA busy_timeout").get();
  } catch {
    return;
  }
  const value = current && typeof current === "object" ? Object.values(current)[0] : undefined;
  if (Number(value) === 0 && ms > 0) await db.exec(`PRAGMA busy_timeout = ${ms}`);
}

/** Switches a file in a rollback journal (delete, truncate, persist) to WAL; memory and remote databases keep theirs. */
async function useWal(db: Database): Promise<void> {
  let mode: unknown;
  try {
    mode = await db.prepare("PRAGMA journal_mode").get();
  } catch {
    return;
  }
  const value = String(mode && typeof mode === "object" ? Object.values(mode)[0] : "").toLowerCase();
  if (["delete", "truncate", "persist"].includes(value)) await db.exec("PRAGMA journal_mode = WAL");
}

/** The INSERT's parameters, in its column order. */
function lineParams(entry: LedgerEntry): Primitive[] {
  return [
    entry.account_id,
    entry.id,
    Date.parse(entry.created_at),
    entry.created_at,
    dayOf(entry.created_at),
    entry.type,
    entry.amount_micros,
    entry.agent_id ?? null,
    entry.key_id ?? null,
    entry.model ?? null,
    entry.thread_id ?? null,
    entry.prompt_tokens ?? null,
    entry.completion_tokens ?? null,
    entry.cache_read_tokens ?? null,
    entry.cache_write_tokens ?? null,
    entry.session_id ?? null,
  ];
}

/** The WHERE clause (cursor and filters) of a page, with its parameters. */
function lineFilters(accountId: string, query: LedgerQuery): [string, Primitive[]] {
  const where = ["account_id = ?"];
  const params: Primitive[] = [accountId];
  const add = (clause: string, value: Primitive) => {
    where.push(clause);
    params.push(value);
  };
  if (query.after !== undefined) add("id > ?", query.after);
  if (query.agentId !== undefined) add("agent_id = ?", query.agentId);
  if (query.keyId !== undefined) add("key_id = ?", query.keyId);
  if (query.model !== undefined) add("model = ?", query.model);
  if (query.threadId !== undefined) add("thread_id = ?", query.threadId);
  if (query.type !== undefined) add("type = ?", query.type);
  // Lines are stored at whole ms: `at >= since` is `at >= ceil(since)`, `at < until` is `at < ceil(until)`.
  if (query.since !== undefined) add("created_ms >= ?", timeBound(query.since, "since"));
  if (query.until !== undefined) add("created_ms < ?", timeBound(query.until, "until"));
  return [where.join(" AND "), params];
}

function timeBound(ms: number, name: string): number {
  if (typeof ms !== "number" || !Number.isFinite(ms)) throw new TypeError(`[agentgate] a ledger page's \`${name}\` is a time in ms, not ${String(ms)}`);
  return Math.ceil(ms);
}

function summaryRow(row: Record<string, unknown>, columns: Column[]): SummaryRow {
  const summary: SummaryRow = {
    lines: exactInteger(row.lines, "lines"),
    prompt_tokens: exactInteger(row.prompt_tokens, "prompt_tokens"),
    completion_tokens: exactInteger(row.completion_tokens, "completion_tokens"),
    amount_micros: exactInteger(row.amount_micros, "amount_micros"),
  };
  const cacheRead = exactInteger(row.cache_read_tokens ?? 0, "cache_read_tokens");
  const cacheWrite = exactInteger(row.cache_write_tokens ?? 0, "cache_write_tokens");
  if (cacheRead) summary.cache_read_tokens = cacheRead;
  if (cacheWrite) summary.cache_write_tokens = cacheWrite;
  for (const column of columns) Object.assign(summary, { [column]: column === "day" || column === "type" ? String(row[column]) : nullableText(row[column]) });
  return summary;
}
