import type { Cluster, Redis } from "ioredis";
import { createRedisClient, isRedisClient, type RedisInput } from "../redis-connection";
import { escapeTag, script, scriptRunner } from "../redis-scripts";
import { checkLedgerEntry, checkSummaryQuery, dayOf, isLedgerEntry, matchesLedgerQuery, pageSize, rollupField, summarizeRollups, type Rollup } from "./rollups";
import type { LedgerEntry, LedgerStore } from "./types";

export interface RedisLedgerOptions {
  /** An ioredis client (kept open on `close()`: it is yours) or a URL (a client is created, and closed on `close()`). */
  redis: RedisInput;
  /**
   * Put before every key. Keys read `<prefix>{<account>}:ledger:…`, the account's hash tag
   * as the Redis atomics driver writes it, so one script can change a balance and its line.
   * @default "agentgate:"
   */
  prefix?: string;
  /** Where connection errors of a client created from a URL are reported. @default console.warn, once per 30 s */
  onConnectionError?: (error: Error) => void;
}

/**
 * The ledger in Redis. Per account, under its hash tag (one Cluster slot):
 * `…:ledger:lines` (hash id -> JSON line), `…:ledger:ids` (sorted set, all scores 0, so
 * ids sort as strings: the page order), `…:ledger:day:<YYYY-MM-DD>` (hash of rollup
 * counters, `l|p|c|r|w|a` + `|` + the rollup's dimensions; `r` and `w`, cache reads and writes, only once not zero), `…:ledger:days` (sorted set of the
 * days with lines) and `…:ledger:total`. An append is one script, all or nothing, and does
 * nothing for an id already there; counters are Redis integers (exact to 2^63), never Lua numbers.
 * A page reads ids by lex range from the cursor with their lines, a batch per round trip; a
 * summary reads the days in range, then their rollup hashes in one pipeline.
 *
 * @example
 * createRedisLedger({ redis: process.env.REDIS_URL! })
 */
export function createRedisLedger(options: RedisLedgerOptions): LedgerStore {
  const prefix = options.prefix ?? "agentgate:";
  if (/[{}]/.test(prefix)) throw new Error("[agentgate] the Redis key prefix must not contain `{` or `}` (they mark hash tags)");
  const owned = !isRedisClient(options.redis);
  const client: Redis | Cluster = isRedisClient(options.redis) ? options.redis : createRedisClient(options.redis, options.onConnectionError);
  const run = scriptRunner(client);
  const key = (accountId: string, what: string) => `${ledgerKeyStart(prefix, accountId)}${what}`;

  const ledger: LedgerStore = {
    async append(entry) {
      checkLedgerEntry(entry);
      const day = dayOf(entry.created_at);
      await run(APPEND, ledgerKeys(prefix, entry.account_id, day), [entry.id, JSON.stringify(entry), day, String(entry.amount_micros), ...ledgerArgs(entry)]);
    },

    async page(accountId, query = {}) {
      const limit = pageSize(query);
      const entries: LedgerEntry[] = [];
      let start = query.after === undefined ? "-" : `(${query.after}`;
      // A filtered page may skip many lines: read more per round trip as it goes.
      for (let batch = Math.min(limit + 1, MAX_BATCH); ; batch = Math.min(batch * 2, MAX_BATCH)) {
        const [ids, lines] = (await run(PAGE, [key(accountId, "ids"), key(accountId, "lines")], [start, String(batch)])) as [string[], (string | null)[]] | [];
        if (!ids || ids.length === 0) return { entries, hasMore: false };
        for (const text of lines!) {
          const entry = parse(text);
          if (!entry || !matchesLedgerQuery(entry, query)) continue;
          if (entries.length === limit) return { entries, hasMore: true };
          entries.push(entry);
        }
        if (ids.length < batch) return { entries, hasMore: false };
        start = `(${ids.at(-1)}`;
      }
    },

    async summarize(accountId, query = {}) {
      checkSummaryQuery(query);
      const days = (await client.zrangebylex(key(accountId, "days"), query.from === undefined ? "-" : `[${query.from}`, query.to === undefined ? "+" : `[${query.to}`)) as string[];
      if (days.length === 0) return [];
      // One pipeline of plain HGETALLs: cheaper for Redis than a script that reshapes them.
      const pipeline = client.pipeline();
      for (const day of days) pipeline.hgetall(key(accountId, `day:${day}`));
      const replies = (await pipeline.exec()) ?? [];
      const rollups = new Map<string, Rollup>();
      const dimensions = new Map<string, Dimensions>();
      for (const [i, [error, counters]] of replies.entries()) {
        if (error) throw error;
        for (const [field, value] of Object.entries(counters as Record<string, string>)) {
          const counter = COUNTERS[field[0] as keyof typeof COUNTERS];
          if (!counter || field[1] !== "|") continue;
          const dims = field.slice(2);
          let rollup = rollups.get(`${days[i]}|${dims}`);
          if (!rollup) {
            let parsed = dimensions.get(dims);
            if (!parsed) dimensions.set(dims, (parsed = JSON.parse(dims) as Dimensions));
            const [agent_id, key_id, model, type] = parsed;
            rollups.set(`${days[i]}|${dims}`, (rollup = { day: days[i], agent_id, key_id, model, type, lines: 0, prompt_tokens: 0, completion_tokens: 0, amount_micros: 0 }));
          }
          if (counter.startsWith("cache_") && value === "0") continue; // left out while zero, as every driver does
          rollup[counter] = Number(value);
        }
      }
      return summarizeRollups(rollups.values(), query);
    },

    async total(accountId) {
      const total = await client.get(key(accountId, "total"));
      return total === null ? null : Number(total);
    },

    async close() {
      if (owned) await client.quit().catch(() => client.disconnect());
    },
  };
  targets.set(ledger, { redis: options.redis, prefix });
  return ledger;
}

// --- internal ---

/** A rollup's dimensions as its hash fields spell them (`rollupField`). */
type Dimensions = [agent_id: string | null, key_id: string | null, model: string | null, type: Rollup["type"]];

/** The rollup counters of one line, by the first letter of their field. */
const COUNTERS = { l: "lines", p: "prompt_tokens", c: "completion_tokens", r: "cache_read_tokens", w: "cache_write_tokens", a: "amount_micros" } as const;

/** Ids read per round trip when a page is filtered (and the cap of HMGET's arguments). */
const MAX_BATCH = 1_000;

/**
 * Lua: a line's append, shared by APPEND and the Redis atomics' settle (which writes a
 * charge's line in the same script as the charge when the ledger is on its Redis, under
 * its prefix). `k`: the keys of `ledgerKeys`; `a`: the arguments of `ledgerArgs`, each
 * counter made only when not zero for the cache ones. `ledger_fits` is a check to run
 * before the script's first write (a script's writes before an error are kept): with
 * `amount` the largest the line may carry, every counter stays below 2^63. `ledger_write`
 * writes nothing when the ledger has the id (0; 1 when written).
 */
export const LEDGER_LUA = `
local function ledger_fits(k, a, amount)
  local function fits(current, add)
    return math.abs(tonumber(current or '0')) + math.abs(tonumber(add)) < 9.2e18
  end
  local day = redis.call('HMGET', k[5], 'a|' .. a[1], 'p|' .. a[1], 'c|' .. a[1], 'r|' .. a[1], 'w|' .. a[1])
  return fits(redis.call('GET', k[4]), amount) and fits(day[1], amount) and fits(day[2], a[2]) and fits(day[3], a[3])
    and fits(day[4], a[4]) and fits(day[5], a[5])
end
local function ledger_write(k, a, id, json, day, amount)
  if redis.call('HSETNX', k[1], id, json) == 0 then return 0 end
  redis.call('ZADD', k[2], 0, id)
  -- The day joins the days on its first line of this rollup (a later line of the day finds it there).
  if redis.call('HINCRBY', k[5], 'l|' .. a[1], 1) == 1 then redis.call('ZADD', k[3], 0, day) end
  redis.call('HINCRBY', k[5], 'p|' .. a[1], a[2])
  redis.call('HINCRBY', k[5], 'c|' .. a[1], a[3])
  if a[4] ~= '0' then redis.call('HINCRBY', k[5], 'r|' .. a[1], a[4]) end
  if a[5] ~= '0' then redis.call('HINCRBY', k[5], 'w|' .. a[1], a[5]) end
  redis.call('HINCRBY', k[5], 'a|' .. a[1], amount)
  redis.call('INCRBY', k[4], amount)
  return 1
end
`;

/** Where an account's ledger keys start: under the account's hash tag, as the Redis atomics write it. */
function ledgerKeyStart(prefix: string, accountId: string): string {
  return `${prefix}{${escapeTag(accountId)}}:ledger:`;
}

/** The keys of an account's ledger a line of `day` touches: lines, ids, days, total, the day's rollups. */
export function ledgerKeys(prefix: string, accountId: string, day: string): string[] {
  // The tag is escaped once: every settle that writes its line inline builds these.
  const start = ledgerKeyStart(prefix, accountId);
  return [`${start}lines`, `${start}ids`, `${start}days`, `${start}total`, `${start}day:${day}`];
}

/** A line's rollup field and its counters (everything but the amount), as `LEDGER_LUA` reads them. */
export function ledgerArgs(entry: Omit<LedgerEntry, "amount_micros">): string[] {
  return [rollupField(entry), String(entry.prompt_tokens ?? 0), String(entry.completion_tokens ?? 0), String(entry.cache_read_tokens ?? 0), String(entry.cache_write_tokens ?? 0)];
}

/** Where a Redis ledger writes (see `redisLedgerTarget`). */
export interface RedisLedgerTarget {
  redis: RedisInput;
  prefix: string;
}

const targets = new WeakMap<LedgerStore, RedisLedgerTarget>();

/** The Redis and prefix a ledger made by `createRedisLedger` writes to; undefined for any other ledger. */
export function redisLedgerTarget(ledger: LedgerStore | undefined): RedisLedgerTarget | undefined {
  return ledger && targets.get(ledger);
}

// KEYS: those of ledgerKeys. ARGV: id, JSON line, day, amount, then those of ledgerArgs.
// 1 = appended, 0 = the id was there.
const APPEND = script(`${LEDGER_LUA}
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local a = { ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9] }
if not ledger_fits(KEYS, a, ARGV[4]) then return redis.error_reply('ERR a ledger counter would pass 2^63') end
return ledger_write(KEYS, a, ARGV[1], ARGV[2], ARGV[3], ARGV[4])
`);

// KEYS: ids, lines. ARGV: the lex start ('-' or '(' .. the cursor), how many. The ids and their lines.
const PAGE = script(`
local ids = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0, tonumber(ARGV[2]))
if #ids == 0 then return {} end
return { ids, redis.call('HMGET', KEYS[2], unpack(ids)) }
`);

function parse(text: string | null): LedgerEntry | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return isLedgerEntry(value) ? value : null;
  } catch {
    return null;
  }
}
