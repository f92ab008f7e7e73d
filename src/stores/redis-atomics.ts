import type { Cluster, Redis } from "ioredis";
import type { Logger } from "../runtime";
import { balanceLimitError, checkBudgets, checkMicros, MAX_BALANCE_MICROS, normalizeWindows, SETTLE_MEMORY_MS, type Atomics, type BalanceState, type LineDraft, type RateWindow } from "./atomics";
import type { LedgerEntry, LedgerStore } from "./ledger/types";
import type { Records } from "./records";
import { createRedisCooldowns } from "./cooldowns";
import { budgetArgs, BUDGETS_LUA, parseBudgetStates } from "./budgets-redis";
import { createSeeding, createWriteThrough } from "./redis-balance-copies";
import { batchedForget } from "./batched-forget";
import { createCarriedCharges } from "./carried-charges";
import { createRedisClient, isRedisClient, type RedisInput } from "./redis-connection";
import { escapeTag, NOW, script, scriptRunner } from "./redis-scripts";
import { dayOf, checkLedgerEntry } from "./ledger/rollups";
import { LEDGER_LUA, ledgerArgs, ledgerKeys, redisLedgerTarget } from "./ledger/redis";

export interface RedisAtomicsOptions {
  /**
   * An ioredis client (kept open on `close()`: it is yours) or a URL (a client with
   * `REDIS_CLIENT_OPTIONS` is created, and closed on `close()`).
   */
  redis: RedisInput;
  /**
   * Put before every key. Keys then read `<prefix>{<scope>}:<what>`, where the scope
   * (agent, account or lease name) is the hash tag, so Redis Cluster keeps all keys of
   * one call in one slot.
   * @default "agentgate:"
   */
  prefix?: string;
  /** Where connection errors of a client created from a URL are reported. @default console.warn, once per 30 s */
  onConnectionError?: (error: Error) => void;
  /**
   * The storage that keeps each balance's copy (`balances:<account>`), as the in-process
   * driver does, so either driver can take over from the other over the same storage.
   * With it, Redis seeds an account it does not hold yet from that copy (once, atomically,
   * whatever the number of instances), and writes every change of a balance back to it
   * in the background. `createGateway` passes its records.
   */
  records?: Records;
  /**
   * The ledger whose sum stands in for a balance copy that is missing or torn. `createGateway` passes its ledger.
   * A Redis ledger on the same Redis (the same client, or the same URL) under the same prefix
   * takes each charge's line in the settle's own script: one round trip for both, and no
   * line written ahead.
   */
  ledger?: LedgerStore;
  /**
   * How old a line written ahead must be before another request writes it to the ledger
   * for the one that wrote it (which died, or the line would be gone by then). @default 60000
   */
  linesAheadGraceMs?: number;
  /** Where seeding and write-through problems are reported. @default console */
  logger?: Logger;
}

/** How long an idempotent credit is remembered. */
const CREDIT_MEMORY_MS = 24 * 3_600_000;
/** Interval claims remembered per process; past this many the memory starts over (asking Redis again is harmless). */
const MAX_CLAIMS_SEEN = 100_000;
/** Scopes whose key lists are kept built (see keyLists). */
const MAX_KEY_LISTS = 10_000;

/**
 * The Redis atomics driver: every operation is one Lua script (or one `SET NX`), one
 * round trip, so it is exact across any number of gateway processes. Times come from
 * the Redis server (`TIME`, `PX`), one clock for every instance; only `hitRate` and
 * `chargeRate` accept a `now` (tests). Balances live in Redis itself: give it
 * persistence (AOF) if money matters.
 *
 * A token charge (`chargeRate`, the tokens an answer used beyond its estimate) is not a
 * call of its own: it rides with the agent's next hit from this process, or goes alone
 * within `CARRY_MS` (100 ms), and on `close()`. Other processes see it that much later.
 *
 * With `records`, Redis and the in-process driver can take turns over one storage: the
 * first time a process touches an account, it reads the stored copy once and Redis
 * adopts it unless Redis already holds a newer balance (see SEED below); from then on
 * every request costs Redis one call to reserve and one to settle, as without it, and
 * each change of a balance is written back to the copy off the request's path.
 *
 * @example
 * createGateway({ atomics: createRedisAtomics({ redis: process.env.REDIS_URL! }) })
 */
export function createRedisAtomics(options: RedisAtomicsOptions): Atomics {
  const prefix = options.prefix ?? "agentgate:";
  if (/[{}]/.test(prefix)) throw new Error("[agentgate] the Redis key prefix must not contain `{` or `}` (they mark hash tags)");
  const owned = !isRedisClient(options.redis);
  const client: Redis | Cluster = isRedisClient(options.redis) ? options.redis : createRedisClient(options.redis, options.onConnectionError);
  const run = scriptRunner(client);
  const key = (scope: string, what: string) => `${prefix}{${escapeTag(scope)}}:${what}`;
  // The lines written ahead (id -> entry) and when each was written (a sorted set, so finding old ones is cheap).
  const aheadKeys = keyLists(key, ["lines-ahead", "lines-ahead-at"]);
  const accountKeys = keyLists(key, ["balance", "reserved", "holds", "hold-expiry", "balance-meta", "budgets"]);
  const { records } = options;
  const grace = String(options.linesAheadGraceMs ?? 60_000);
  const ledgerHere = sharesRedis(options.ledger, options.redis, prefix);
  const logger = options.logger ?? console;
  // '1': the money scripts refuse an account Redis has not seeded, and count each change.
  const tracked = records ? "1" : "0";
  const copies = createWriteThrough(run, key, records, logger);
  // Interval claims this process took or found taken -> until when it does not ask Redis again.
  const claimsSeen = new Map<string, number>();
  // Lines the ledger has, forgotten from the lines written ahead in one script per account per batch.
  const landed = batchedForget(async (accountId, ids) => void (await run(FORGET_LINES, aheadKeys(accountId), ids)));
  const seeding = createSeeding(run, key, records, options.ledger, logger, (accountId) => copies.changed(accountId));
  // The windows hit (checked), then those only carried; a carried charge of a hit window rides with it.
  const rateArgs = (scope: string, hit: readonly RateWindow[], carried: readonly RateWindow[] | undefined, now: number | undefined) => {
    const keys: string[] = [];
    const args = [now === undefined ? "" : String(Math.floor(now))];
    const extra = new Map(carried?.map((window) => [window.name, window]));
    for (const window of hit) {
      keys.push(key(scope, `rate:${window.name}`));
      args.push(String(window.limit), String(window.periodMs), String(window.cost), String(extra.get(window.name)?.cost ?? 0));
      extra.delete(window.name);
    }
    for (const window of extra.values()) {
      keys.push(key(scope, `rate:${window.name}`));
      args.push(String(window.limit), String(window.periodMs), "", String(window.cost));
    }
    return [keys, args] as const;
  };
  // Token corrections ride with the agent's next hit from this process (or go alone within CARRY_MS).
  const charges = createCarriedCharges(async (scope, windows) => void (await run(RATE, ...rateArgs(scope, [], windows, undefined))));

  return {
    ...createRedisCooldowns(run, key),
    async hitRate(scope, input, now) {
      const windows = normalizeWindows(input);
      if (windows.length === 0) return { allowed: true, retryAfterMs: 0, windows: [] };
      // Lost with the call if it fails, as a charge of its own would be (best effort).
      const reply = (await run(RATE, ...rateArgs(scope, windows, charges.take(scope), now))) as number[];
      return {
        allowed: reply[0] === 1,
        retryAfterMs: reply[1],
        windows: windows.map((window, i) => ({ name: window.name, limit: window.limit, remaining: reply[2 + i * 2], resetMs: reply[3 + i * 2] })),
      };
    },

    async chargeRate(scope, input, now) {
      const windows = normalizeWindows(input);
      if (!windows.length) return;
      // A charge on a clock of its own (tests) is written at once: a later hit's clock may differ.
      if (now !== undefined) await run(RATE, ...rateArgs(scope, [], windows, now));
      else charges.add(scope, windows);
    },

    async reserve(accountId, reservationId, amountMicros, ttlMs, budgets) {
      checkMicros(amountMicros, "amountMicros");
      checkBudgets(budgets);
      const args = [tracked, reservationId, String(amountMicros), String(Math.ceil(ttlMs)), ...budgetArgs(budgets)];
      const [ok, balance, reserved, refused] = (await seeding.call(accountId, () => run(RESERVE, accountKeys(accountId), args))) as [number, number, number, string?];
      return { ok: ok === 1, balance_micros: balance, reserved_micros: reserved, ...(refused && { budget: parseBudgetStates(refused)[0] }) };
    },

    async renewHold(accountId, reservationId, ttlMs) {
      // Not through seeding: an account Redis does not hold has no hold to renew.
      return (await run(RENEW_HOLD, accountKeys(accountId), [tracked, reservationId, String(Math.ceil(ttlMs))])) === 1;
    },

    async settle(accountId, reservationId, chargeMicros, line) {
      checkMicros(chargeMicros, "chargeMicros");
      // The line straight into the ledger, in this script, when the ledger is on this Redis.
      const inline = ledgerHere && line !== undefined;
      if (inline) checkLedgerEntry({ ...line, amount_micros: -chargeMicros });
      const day = inline ? dayOf(line.created_at) : "";
      const keys = [...accountKeys(accountId), key(accountId, `settled:${reservationId}`), ...aheadKeys(accountId), ...(inline ? ledgerKeys(prefix, accountId, day) : [])];
      const args = [tracked, reservationId, String(chargeMicros), String(SETTLE_MEMORY_MS), line?.id ?? "", line ? JSON.stringify(line) : "", grace, ...(inline ? [day, ...ledgerArgs(line)] : [])];
      const [charged, balance, reserved, own, charges, ...ahead] = (await seeding.call(accountId, () => run(SETTLE, keys, args))) as [number, number, number, string, string, ...string[]];
      // A retried settle (its first reply was lost) writes back too, as the in-process driver's does.
      if (charged > 0) copies.changed(accountId);
      const lines = linesAhead([own, ...ahead]);
      const budgets = parseBudgetStates(charges);
      // Written inline, the own line is in the ledger already: `lines` says so by being there, empty or with lines others left.
      return { charged_micros: charged, balance_micros: balance, reserved_micros: reserved, ...((inline || lines.length) && { lines }), ...(budgets.length && { budgets }) };
    },

    async credit(accountId, amountMicros, once, line) {
      checkMicros(amountMicros, "amountMicros");
      const keys = [...accountKeys(accountId), ...aheadKeys(accountId), ...(once ? [key(accountId, `credit:${once.id}`)] : [])];
      const args = [tracked, String(amountMicros), once?.receipt ?? "", String(CREDIT_MEMORY_MS), String(MAX_BALANCE_MICROS), line?.id ?? "", line ? JSON.stringify(line) : "", grace];
      const [balance, reserved, receipt, ...ahead] = (await seeding.call(accountId, () => run(CREDIT, keys, args))) as [number, number, string, ...string[]];
      if (reserved === -1) throw balanceLimitError(balance);
      copies.changed(accountId);
      const lines = linesAhead(ahead);
      const result = { balance_micros: balance, reserved_micros: reserved, ...(lines.length && { lines }) };
      return once ? { ...result, receipt } : result;
    },

    landedLines(accountId, lineIds) {
      return landed.forget(accountId, lineIds);
    },

    async getBalance(accountId) {
      return balanceState(await seeding.call(accountId, () => run(BALANCE, accountKeys(accountId), [tracked])));
    },

    async getBudgets(accountId, budgets) {
      checkBudgets(budgets);
      if (!budgets.length) return [];
      return parseBudgetStates((await run(BUDGETS, accountKeys(accountId), [tracked, ...budgetArgs(budgets)])) as string);
    },

    async acquireLease(threadId, token, ttlMs) {
      return (await client.set(key(threadId, "lease"), token, "PX", Math.ceil(ttlMs), "NX")) === "OK";
    },

    async renewLease(threadId, token, ttlMs) {
      return (await run(RENEW_LEASE, [key(threadId, "lease")], [token, String(Math.ceil(ttlMs))])) === 1;
    },

    async releaseLease(threadId, token) {
      await run(RELEASE, [key(threadId, "lease")], [token]);
    },

    async claimInterval(name, intervalMs) {
      // A claim this process saw taken is not asked about again for a while (every request
      // asks): the whole interval after taking it, a tenth of it after finding it taken.
      const now = Date.now();
      const quietUntil = claimsSeen.get(name);
      if (quietUntil !== undefined && now < quietUntil) return false;
      const claimed = (await client.set(key(name, "claim"), "1", "PX", Math.ceil(intervalMs), "NX")) === "OK";
      if (claimsSeen.size >= MAX_CLAIMS_SEEN) claimsSeen.clear();
      claimsSeen.set(name, now + (claimed ? intervalMs : intervalMs / 10));
      return claimed;
    },

    async close() {
      // The copies, the forgotten lines and the waiting charges first: they need the client.
      await Promise.all([copies.flush(), landed.flush(), charges.flush()]);
      if (!owned) return;
      await client.quit().catch(() => client.disconnect());
    },
  };
}

// --- internal ---

/**
 * The keys `names` of a scope, built once per scope (its tag escaped): reserve and settle ask
 * for them on every request. Past MAX_KEY_LISTS scopes the memory starts over.
 */
function keyLists(key: (scope: string, what: string) => string, names: readonly string[]): (scope: string) => readonly string[] {
  const lists = new Map<string, readonly string[]>();
  return (scope) => {
    let list = lists.get(scope);
    if (list === undefined) {
      if (lists.size >= MAX_KEY_LISTS) lists.clear();
      list = names.map((what) => key(scope, what));
      lists.set(scope, list);
    }
    return list;
  };
}

/** The lines a script handed back ("<amount>|<at>|<draft JSON>"; '' for none), as ledger lines. */
function linesAhead(entries: readonly string[]): LedgerEntry[] {
  return entries.filter(Boolean).map((entry) => {
    const [amount, , ...draft] = entry.split("|");
    return { ...(JSON.parse(draft.join("|")) as LineDraft), amount_micros: Number(amount) };
  });
}

/** Whether `ledger` is a Redis ledger on the Redis `redis` names (the same client, or the same URLs), under `prefix`. */
function sharesRedis(ledger: LedgerStore | undefined, redis: RedisInput, prefix: string): boolean {
  const target = redisLedgerTarget(ledger);
  if (!target || target.prefix !== prefix) return false;
  if (target.redis === redis) return true;
  // Two clients made from one URL (createGateway's own) reach the same server; two client objects may not.
  const urls = (input: RedisInput) => (typeof input === "string" || Array.isArray(input) ? JSON.stringify(input) : undefined);
  return urls(target.redis) !== undefined && urls(target.redis) === urls(redis);
}

function balanceState(reply: unknown): BalanceState {
  const [balance, reserved] = reply as number[];
  return { balance_micros: balance, reserved_micros: reserved };
}


// The hit of several windows, all or nothing, with charges carried into them first:
// gcra() and rateWindowState() of atomics.ts, line by line. KEYS: one hash per window.
// ARGV: now ('' = server time), then limit, period, cost ('' = only carried, not
// checked), carried cost (added without checking, before the hit) of each window.
const RATE = script(`${NOW}
local now = tonumber(ARGV[1]) or now_ms()
local allowed = true
local retry = 0
local steps = {}
for i = 1, #KEYS do
  local limit = tonumber(ARGV[i * 4 - 2])
  local period = tonumber(ARGV[i * 4 - 1])
  local cost = tonumber(ARGV[i * 4])
  local s = redis.call('HMGET', KEYS[i], 'at', 'debt', 'limit')
  local capacity = period * limit
  local debt = 0
  if s[1] and s[2] and s[3] then
    local was = tonumber(s[3])
    debt = math.max(0, tonumber(s[2]) + (tonumber(s[1]) - now) * was)
    if was ~= limit then debt = math.min(debt, capacity) end
  end
  debt = debt + tonumber(ARGV[i * 4 + 1]) * period
  local nxt = debt + (cost or 0) * period
  if cost and nxt > capacity then
    allowed = false
    retry = math.max(retry, math.ceil((nxt - capacity) / limit))
  end
  steps[i] = { debt, nxt, limit, period, capacity }
end
local out = { allowed and 1 or 0, retry }
for i = 1, #KEYS do
  local st = steps[i]
  local debt = st[1]
  if allowed then debt = st[2] end
  -- A refused hit stores the state without it (what was carried stays), so a changed limit is settled at once.
  redis.call('HSET', KEYS[i], 'at', string.format('%.0f', now), 'debt', string.format('%.0f', debt), 'limit', string.format('%.0f', st[3]))
  -- Once the debt is paid the window is as good as new: let the key go.
  redis.call('PEXPIRE', KEYS[i], math.ceil(debt / st[3]) + 1000)
  out[#out + 1] = math.max(0, math.floor((st[5] - debt) / st[4]))
  out[#out + 1] = math.ceil(debt / st[3])
end
return out
`);

// Shared by the money scripts. KEYS: balance, reserved (the sum of live holds), holds
// (hash id -> "amount:ttl"), hold-expiry (sorted set id -> expires at), balance-meta
// (hash: epoch, from, rev; see SEED), budgets (see budgets-redis.ts). ARGV[1]: '1' when balances are written through to
// storage: then an account without balance-meta was never seeded (or Redis lost it) and
// the script answers 'unseeded' instead of counting from zero, and every change of the
// balance counts one more rev (what the write-through compares).
const ACCOUNT = `${NOW}
local tracked = ARGV[1] == '1'
local function unseeded() return tracked and redis.call('EXISTS', KEYS[5]) == 0 end
local function changed() if tracked then redis.call('HINCRBY', KEYS[5], 'rev', 1) end end
local function num(k) return tonumber(redis.call('GET', k) or '0') end
${BUDGETS_LUA}
local function sweep(now)
  local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 1000)
  for _, id in ipairs(expired) do
    local hold = redis.call('HGET', KEYS[3], id)
    if hold then
      local amount, budgets = string.match(hold, '^(%d+):%d+:?(.*)$')
      redis.call('DECRBY', KEYS[2], tonumber(amount))
      budget_release(budgets, tonumber(amount))
      redis.call('HDEL', KEYS[3], id)
    end
    redis.call('ZREM', KEYS[4], id)
  end
end
`;

// ARGV: tracked, reservation id, amount, ttl ms, then scope, limit, period start of each budget.
// Refused by a budget: { 0, balance, reserved, that budget's state }.
const RESERVE = script(`${ACCOUNT}
if unseeded() then return { 'unseeded' } end
local now = now_ms()
sweep(now)
local balance = num(KEYS[1])
local reserved = num(KEYS[2])
if redis.call('HEXISTS', KEYS[3], ARGV[2]) == 1 then return { 1, balance, reserved } end
local amount = tonumber(ARGV[3])
if balance - reserved < amount then return { 0, balance, reserved } end
local held = ''
if #ARGV > 4 then
  local scopes, refused = budget_hold(5, amount)
  if refused then return { 0, balance, reserved, refused } end
  held = ':' .. scopes
end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3] .. ':' .. ARGV[4] .. held)
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[4]), ARGV[2])
redis.call('INCRBY', KEYS[2], amount)
return { 1, balance, reserved + amount }
`);

// ARGV: tracked, reservation id, ttl ms. The swept expiry decides: an expired hold stays gone.
const RENEW_HOLD = script(`${ACCOUNT}
local now = now_ms()
sweep(now)
if redis.call('HEXISTS', KEYS[3], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[3]), ARGV[2])
return 1
`);

// Lines written ahead (see LineDraft): a hash of line id -> "<signed amount>|<written at ms>|<line
// JSON without its amount>", set in the same script as the money it records. A reply carries
// the script's own line, then lines older than the grace (a minute), left by a process that died before
// the ledger took them (whoever gets them writes them: the ledger takes a line once).
const LINES_AHEAD = `
local function write_ahead(k, at_k, id, amount, draft, now)
  if id == '' then return '' end
  local entry = string.format('%.0f', amount) .. '|' .. now .. '|' .. draft
  redis.call('HSET', k, id, entry)
  redis.call('ZADD', at_k, now, id)
  return entry
end
local function left_behind(k, at_k, own, now, grace, out)
  local ids = redis.call('ZRANGEBYSCORE', at_k, '-inf', now - grace, 'LIMIT', 0, 50)
  for _, id in ipairs(ids) do
    if id ~= own then
      local entry = redis.call('HGET', k, id)
      if entry then out[#out + 1] = entry else redis.call('ZREM', at_k, id) end
    end
  end
  return out
end
`;

// KEYS[7]: the settled marker of this reservation; KEYS[8], KEYS[9]: the lines written ahead, and when;
// KEYS[10..14], when the ledger is on this Redis: its keys for the line (see LEDGER_LUA).
// ARGV: tracked, reservation id, charge, marker ttl, line id ('' for none), line draft, grace ms,
// then with the ledger's keys: the line's day and its ledgerArgs.
// Replies { charged, balance, reserved, own line ('' when none, or in the ledger), budgets after the charge, lines left behind... }.
const SETTLE = script(`${ACCOUNT}${LINES_AHEAD}${LEDGER_LUA}
if unseeded() then return { 'unseeded' } end
local ledger_keys = KEYS[10] and { KEYS[10], KEYS[11], KEYS[12], KEYS[13], KEYS[14] }
local ledger_args = ledger_keys and { ARGV[9], ARGV[10], ARGV[11], ARGV[12], ARGV[13] }
-- Checked before any write, with the whole charge asked (what is taken is never more).
if ledger_keys and not ledger_fits(ledger_keys, ledger_args, ARGV[3]) then return redis.error_reply('ERR a ledger counter would pass 2^63') end
local now = now_ms()
sweep(now)
local earlier = redis.call('GET', KEYS[7])
if earlier then
  -- A retry: its line, if still waiting for the ledger, comes back with it.
  local own = ARGV[5] ~= '' and redis.call('HGET', KEYS[8], ARGV[5]) or false
  return left_behind(KEYS[8], KEYS[9], ARGV[5], now, tonumber(ARGV[7]), { tonumber(earlier), num(KEYS[1]), num(KEYS[2]), own or '', '' })
end
local ttl = tonumber(ARGV[4])
local hold = redis.call('HGET', KEYS[3], ARGV[2])
local balance = num(KEYS[1])
local reserved
-- No hold (never made, expired, lost with Redis's data): nothing to charge.
local charged = 0
local budgets = ''
if hold then
  local amount, held_ttl
  amount, held_ttl, budgets = string.match(hold, '^(%d+):(%d+):?(.*)$')
  reserved = redis.call('DECRBY', KEYS[2], tonumber(amount))
  budget_release(budgets, tonumber(amount))
  redis.call('HDEL', KEYS[3], ARGV[2])
  redis.call('ZREM', KEYS[4], ARGV[2])
  ttl = math.max(ttl, tonumber(held_ttl))
  -- Its own hold released, a request pays from what no other request holds, of the balance and of each budget.
  charged = math.min(tonumber(ARGV[3]), math.max(0, balance - reserved), budget_room(budgets))
else
  reserved = num(KEYS[2])
end
local own = ''
if charged > 0 then
  balance = redis.call('DECRBY', KEYS[1], charged)
  changed()
  if ledger_keys then
    -- The draft is JSON without the amount: the line is the draft with it put first (unless the ledger has its id).
    local amount = string.format('%.0f', -charged)
    ledger_write(ledger_keys, ledger_args, ARGV[5], '{"amount_micros":' .. amount .. ',' .. string.sub(ARGV[6], 2), ARGV[8], amount)
  else
    own = write_ahead(KEYS[8], KEYS[9], ARGV[5], -charged, ARGV[6], now)
  end
end
local charges = budget_charge(budgets, charged)
redis.call('SET', KEYS[7], string.format('%.0f', charged), 'PX', ttl)
return left_behind(KEYS[8], KEYS[9], ARGV[5], now, tonumber(ARGV[7]), { charged, balance, reserved, own, charges })
`);

// KEYS[7], KEYS[8]: the lines written ahead, and when; KEYS[9], when the credit is idempotent: its marker.
// ARGV: tracked, amount, receipt, marker ttl, largest balance, line id ('' for none), line draft, grace ms.
const CREDIT = script(`${ACCOUNT}${LINES_AHEAD}
if unseeded() then return { 'unseeded' } end
local now = now_ms()
sweep(now)
if KEYS[9] then
  local earlier = redis.call('GET', KEYS[9])
  if earlier then return { num(KEYS[1]), num(KEYS[2]), earlier, '' } end
end
-- Over the limit: nothing credited, nothing remembered; reserved -1 tells the caller.
if num(KEYS[1]) + tonumber(ARGV[2]) > tonumber(ARGV[5]) then return { num(KEYS[1]), -1, '', '' } end
if KEYS[9] then redis.call('SET', KEYS[9], ARGV[3], 'PX', ARGV[4]) end
local balance = redis.call('INCRBY', KEYS[1], ARGV[2])
changed()
local own = write_ahead(KEYS[7], KEYS[8], ARGV[6], tonumber(ARGV[2]), ARGV[7], now)
return left_behind(KEYS[7], KEYS[8], ARGV[6], now, tonumber(ARGV[8]), { balance, num(KEYS[2]), ARGV[3], own })
`);

// KEYS[1], KEYS[2]: the lines written ahead, and when. ARGV: the ids the ledger now has.
const FORGET_LINES = script(`
redis.call('HDEL', KEYS[1], unpack(ARGV))
redis.call('ZREM', KEYS[2], unpack(ARGV))
return 0
`);

const BALANCE = script(`${ACCOUNT}
if unseeded() then return { 'unseeded' } end
sweep(now_ms())
return { num(KEYS[1]), num(KEYS[2]) }
`);

// ARGV: tracked, then scope, limit, period start of each budget. Swept first: expired holds hold nothing.
const BUDGETS = script(`${ACCOUNT}
sweep(now_ms())
local out = {}
for i = 0, (#ARGV - 1) / 3 - 1 do
  local scope, limit = ARGV[2 + i * 3], tonumber(ARGV[3 + i * 3])
  out[#out + 1] = budget_state(scope, limit, budget_current(scope, limit, tonumber(ARGV[4 + i * 3])))
end
return table.concat(out, ';')
`);

const RENEW_LEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

const RELEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);
