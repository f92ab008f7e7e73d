import type { Cluster, Redis } from "ioredis";
import { escapeTag } from "../redis-atomics";
import { createRedisClient, isRedisClient, type RedisInput } from "../redis-connection";
import { script, scriptRunner } from "../redis-scripts";
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
  const key = (accountId: string, what: string) => `${prefix}{${escapeTag(accountId)}}:ledger:${what}`;

  return {
    async append(entry) {
      checkLedgerEntry(entry);
      const day = dayOf(entry.created_at);
      const a = entry.account_id;
      await run(APPEND, [key(a, "lines"), key(a, "ids"), key(a, "days"), key(a, "total"), key(a, `day:${day}`)], [entry.id, JSON.stringify(entry), day, rollupField(entry), String(entry.amount_micros), String(entry.prompt_tokens ?? 0), String(entry.completion_tokens ?? 0), String(entry.cache_read_tokens ?? 0), String(entry.cache_write_tokens ?? 0)]);
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
}

// --- internal ---

/** A rollup's dimensions as its hash fields spell them (`rollupField`). */
type Dimensions = [agent_id: string | null, key_id: string | null, model: string | null, type: Rollup["type"]];

/** The rollup counters of one line, by the first letter of their field. */
const COUNTERS = { l: "lines", p: "prompt_tokens", c: "completion_tokens", r: "cache_read_tokens", w: "cache_write_tokens", a: "amount_micros" } as const;

/** Ids read per round trip when a page is filtered (and the cap of HMGET's arguments). */
const MAX_BATCH = 1_000;

// KEYS: lines, ids, days, total, the day's rollup hash. ARGV: id, JSON line, day, rollup
// field, amount, prompt tokens, completion tokens, cache reads, cache writes (their counters
// are made only when not zero). 1 = appended, 0 = the id was there.
// Every check comes before the first write: a script's writes before an error are kept.
const APPEND = script(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local function fits(current, add)
  return math.abs(tonumber(current or '0')) + math.abs(tonumber(add)) < 9.2e18
end
if not (fits(redis.call('GET', KEYS[4]), ARGV[5]) and fits(redis.call('HGET', KEYS[5], 'a|' .. ARGV[4]), ARGV[5])
  and fits(redis.call('HGET', KEYS[5], 'p|' .. ARGV[4]), ARGV[6]) and fits(redis.call('HGET', KEYS[5], 'c|' .. ARGV[4]), ARGV[7])
  and fits(redis.call('HGET', KEYS[5], 'r|' .. ARGV[4]), ARGV[8] or '0') and fits(redis.call('HGET', KEYS[5], 'w|' .. ARGV[4]), ARGV[9] or '0')) then
  return redis.error_reply('ERR a ledger counter would pass 2^63')
end
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[3])
redis.call('HINCRBY', KEYS[5], 'l|' .. ARGV[4], 1)
redis.call('HINCRBY', KEYS[5], 'p|' .. ARGV[4], ARGV[6])
redis.call('HINCRBY', KEYS[5], 'c|' .. ARGV[4], ARGV[7])
if ARGV[8] and ARGV[8] ~= '0' then redis.call('HINCRBY', KEYS[5], 'r|' .. ARGV[4], ARGV[8]) end
if ARGV[9] and ARGV[9] ~= '0' then redis.call('HINCRBY', KEYS[5], 'w|' .. ARGV[4], ARGV[9]) end
redis.call('HINCRBY', KEYS[5], 'a|' .. ARGV[4], ARGV[5])
redis.call('INCRBY', KEYS[4], ARGV[5])
return 1
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
