/** The two SQL families the ledger speaks (db0's `sqlite` and `libsql` dialects are both SQLite). */
export type LedgerDialect = "sqlite" | "postgresql";

/** The ledger's table names, all starting with the configured prefix. */
export interface LedgerTables {
  lines: string;
  rollups: string;
  totals: string;
  /** The trigger (and in PostgreSQL its function) that rolls a new line up. */
  rollUp: string;
  /** The second trigger (and function): a new line's cache reads and writes into its rollup. */
  rollUpCache: string;
}

const PREFIX = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/;

/** Table names for `prefix` (letters, digits and `_`, so they never need escaping). */
export function ledgerTables(prefix = "agentgate_"): LedgerTables {
  if (!PREFIX.test(prefix)) throw new TypeError(`[agentgate] a SQL ledger's table prefix is letters, digits and _ (at most 41), not ${JSON.stringify(prefix)}`);
  return { lines: `${prefix}ledger_lines`, rollups: `${prefix}ledger_rollups`, totals: `${prefix}ledger_totals`, rollUp: `${prefix}ledger_roll_up`, rollUpCache: `${prefix}ledger_roll_up_cache` };
}

/**
 * What identifies a rollup. A null agent, key or model is its own group, apart from `''`:
 * null keys as `''`, a value v as `'=v'` (primary keys refuse nulls in PostgreSQL, and
 * SQLite's unique indexes take every null as distinct, so neither could key a null directly).
 */
export const ROLLUP_KEY = `account_id, day, type, (COALESCE('=' || agent_id, '')), (COALESCE('=' || key_id, '')), (COALESCE('=' || model, ''))`;

/**
 * The statements that create the ledger's tables, index and trigger when they are missing
 * (each idempotent), in order. PostgreSQL's come as one script run in one transaction under
 * an advisory lock, since concurrent `CREATE ... IF NOT EXISTS` can collide there.
 */
export function ledgerSchema(dialect: LedgerDialect, tables: LedgerTables): string[] {
  // Ids and dimensions compare byte by byte in both (PostgreSQL would otherwise use the database's locale).
  const text = dialect === "postgresql" ? `TEXT COLLATE "C"` : "TEXT";
  // SQLite: the primary key is the table (no rowid beside it), so a page reads one b-tree.
  const withoutRowid = dialect === "sqlite" ? " WITHOUT ROWID" : "";
  const create = [
    `CREATE TABLE IF NOT EXISTS ${tables.lines} (
      account_id ${text} NOT NULL,
      id ${text} NOT NULL,
      created_ms BIGINT NOT NULL,
      created_at TEXT NOT NULL,
      day ${text} NOT NULL,
      type ${text} NOT NULL,
      amount_micros BIGINT NOT NULL,
      agent_id ${text},
      key_id ${text},
      model ${text},
      thread_id ${text},
      prompt_tokens BIGINT,
      completion_tokens BIGINT,
      cache_read_tokens BIGINT,
      cache_write_tokens BIGINT,
      session_id ${text},
      PRIMARY KEY (account_id, id)
    )${withoutRowid}`,
    `CREATE TABLE IF NOT EXISTS ${tables.rollups} (
      account_id ${text} NOT NULL,
      day ${text} NOT NULL,
      agent_id ${text},
      key_id ${text},
      model ${text},
      type ${text} NOT NULL,
      lines BIGINT NOT NULL,
      prompt_tokens BIGINT NOT NULL,
      completion_tokens BIGINT NOT NULL,
      amount_micros BIGINT NOT NULL,
      cache_read_tokens BIGINT NOT NULL DEFAULT 0,
      cache_write_tokens BIGINT NOT NULL DEFAULT 0
    )`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${tables.rollups}_key ON ${tables.rollups} (${ROLLUP_KEY})`,
    `CREATE TABLE IF NOT EXISTS ${tables.totals} (
      account_id ${text} PRIMARY KEY,
      amount_micros BIGINT NOT NULL,
      lines BIGINT NOT NULL
    )`,
  ];
  const body = rollUpBody(tables);
  const cacheBody = rollUpCacheBody(tables);
  // The cache counts roll up in a trigger of their own, so tables made before them keep their
  // first trigger untouched (a process of the older release may still be writing).
  if (dialect === "sqlite") {
    return [
      ...create,
      `CREATE TRIGGER IF NOT EXISTS ${tables.rollUp} AFTER INSERT ON ${tables.lines} BEGIN ${body} END`,
      `CREATE TRIGGER IF NOT EXISTS ${tables.rollUpCache} AFTER INSERT ON ${tables.lines} WHEN ${HAS_CACHE} BEGIN ${cacheBody} END`,
    ];
  }
  return [
    [
      `SELECT pg_advisory_xact_lock(hashtext('${tables.lines}'))`,
      ...create,
      // Looked up first: ALTER TABLE locks the table out of every insert even when it adds nothing.
      ...ADDED_COLUMNS.map(
        ({ table, column, type }) => `DO $do$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '${tables[table]}'::regclass AND attname = '${column}' AND NOT attisdropped) THEN
          ALTER TABLE ${tables[table]} ADD COLUMN ${column} ${type === "text" ? text : type};
        END IF;
      END $do$`,
      ),
      // search_path fixed at creation, so every session's inserts roll up into these tables.
      `CREATE OR REPLACE FUNCTION ${tables.rollUp}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$ BEGIN ${body} RETURN NULL; END $fn$`,
      `CREATE OR REPLACE FUNCTION ${tables.rollUpCache}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$ BEGIN ${cacheBody} RETURN NULL; END $fn$`,
      ...[
        [tables.rollUp, ""],
        [tables.rollUpCache, ` WHEN (${HAS_CACHE})`],
      ].map(
        ([trigger, when]) => `DO $do$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '${trigger}' AND tgrelid = '${tables.lines}'::regclass) THEN
          CREATE TRIGGER ${trigger} AFTER INSERT ON ${tables.lines} FOR EACH ROW${when} EXECUTE FUNCTION ${trigger}();
        END IF;
      END $do$`,
      ),
    ].join(";\n"),
  ];
}

/**
 * Columns added after the first release, which tables made before them lack: each one
 * missing is added (SQLite by the driver, having no `ADD COLUMN IF NOT EXISTS`; PostgreSQL
 * in its locked script).
 */
export const ADDED_COLUMNS: ReadonlyArray<{ table: "lines" | "rollups"; column: string; type: string }> = [
  { table: "lines", column: "cache_read_tokens", type: "BIGINT" },
  { table: "lines", column: "cache_write_tokens", type: "BIGINT" },
  { table: "lines", column: "session_id", type: "text" },
  { table: "rollups", column: "cache_read_tokens", type: "BIGINT NOT NULL DEFAULT 0" },
  { table: "rollups", column: "cache_write_tokens", type: "BIGINT NOT NULL DEFAULT 0" },
];

// --- internal ---

/** Only a line with cache use touches the cache counters. */
const HAS_CACHE = `COALESCE(NEW.cache_read_tokens, 0) <> 0 OR COALESCE(NEW.cache_write_tokens, 0) <> 0`;

/**
 * Adds the new line's cache counts to its day's rollup. An upsert, as the first trigger's is:
 * whichever of the two runs first makes the row (this one with 0 lines), the other adds to it.
 */
function rollUpCacheBody({ rollups }: LedgerTables): string {
  return `
    INSERT INTO ${rollups} (account_id, day, agent_id, key_id, model, type, lines, prompt_tokens, completion_tokens, amount_micros, cache_read_tokens, cache_write_tokens)
    VALUES (NEW.account_id, NEW.day, NEW.agent_id, NEW.key_id, NEW.model, NEW.type, 0, 0, 0, 0, COALESCE(NEW.cache_read_tokens, 0), COALESCE(NEW.cache_write_tokens, 0))
    ON CONFLICT (${ROLLUP_KEY}) DO UPDATE SET
      cache_read_tokens = ${rollups}.cache_read_tokens + excluded.cache_read_tokens,
      cache_write_tokens = ${rollups}.cache_write_tokens + excluded.cache_write_tokens;
  `;
}

/** Adds the new line (NEW, in both dialects) to its day's rollup and its account's total. */
function rollUpBody({ rollups, totals }: LedgerTables): string {
  return `
    INSERT INTO ${rollups} (account_id, day, agent_id, key_id, model, type, lines, prompt_tokens, completion_tokens, amount_micros)
    VALUES (NEW.account_id, NEW.day, NEW.agent_id, NEW.key_id, NEW.model, NEW.type, 1, COALESCE(NEW.prompt_tokens, 0), COALESCE(NEW.completion_tokens, 0), NEW.amount_micros)
    ON CONFLICT (${ROLLUP_KEY}) DO UPDATE SET
      lines = ${rollups}.lines + 1,
      prompt_tokens = ${rollups}.prompt_tokens + excluded.prompt_tokens,
      completion_tokens = ${rollups}.completion_tokens + excluded.completion_tokens,
      amount_micros = ${rollups}.amount_micros + excluded.amount_micros;
    INSERT INTO ${totals} (account_id, amount_micros, lines) VALUES (NEW.account_id, NEW.amount_micros, 1)
    ON CONFLICT (account_id) DO UPDATE SET
      amount_micros = ${totals}.amount_micros + excluded.amount_micros,
      lines = ${totals}.lines + 1;
  `;
}
