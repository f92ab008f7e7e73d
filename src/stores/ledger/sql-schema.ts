/** The two SQL families the ledger speaks (db0's `sqlite` and `libsql` dialects are both SQLite). */
export type LedgerDialect = "sqlite" | "postgresql";

/** The ledger's table names, all starting with the configured prefix. */
export interface LedgerTables {
  lines: string;
  rollups: string;
  totals: string;
  /** The trigger (and in PostgreSQL its function) that rolls a new line up. */
  rollUp: string;
}

const PREFIX = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/;

/** Table names for `prefix` (letters, digits and `_`, so they never need escaping). */
export function ledgerTables(prefix = "agentgate_"): LedgerTables {
  if (!PREFIX.test(prefix)) throw new TypeError(`[agentgate] a SQL ledger's table prefix is letters, digits and _ (at most 41), not ${JSON.stringify(prefix)}`);
  return { lines: `${prefix}ledger_lines`, rollups: `${prefix}ledger_rollups`, totals: `${prefix}ledger_totals`, rollUp: `${prefix}ledger_roll_up` };
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
      amount_micros BIGINT NOT NULL
    )`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${tables.rollups}_key ON ${tables.rollups} (${ROLLUP_KEY})`,
    `CREATE TABLE IF NOT EXISTS ${tables.totals} (
      account_id ${text} PRIMARY KEY,
      amount_micros BIGINT NOT NULL,
      lines BIGINT NOT NULL
    )`,
  ];
  const body = rollUpBody(tables);
  if (dialect === "sqlite") return [...create, `CREATE TRIGGER IF NOT EXISTS ${tables.rollUp} AFTER INSERT ON ${tables.lines} BEGIN ${body} END`];
  return [
    [
      `SELECT pg_advisory_xact_lock(hashtext('${tables.lines}'))`,
      ...create,
      // search_path fixed at creation, so every session's inserts roll up into these tables.
      `CREATE OR REPLACE FUNCTION ${tables.rollUp}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$ BEGIN ${body} RETURN NULL; END $fn$`,
      `DO $do$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '${tables.rollUp}' AND tgrelid = '${tables.lines}'::regclass) THEN
          CREATE TRIGGER ${tables.rollUp} AFTER INSERT ON ${tables.lines} FOR EACH ROW EXECUTE FUNCTION ${tables.rollUp}();
        END IF;
      END $do$`,
    ].join(";\n"),
  ];
}

// --- internal ---

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
