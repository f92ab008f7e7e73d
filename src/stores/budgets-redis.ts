import type { BudgetHold, BudgetState } from "./atomics";

/**
 * Budget counting for the Redis atomics driver, as Lua functions the money scripts of
 * redis-atomics.ts include, so a budget is checked and held in the same script (the same
 * round trip) as the balance. KEYS[6] of those scripts is the account's budgets hash
 * (`<prefix>{<account>}:budgets`, the account's hash tag: one Cluster slot), with fields
 * per budget scope: `<scope>|p` the period spent counts in, `|s` spent, `|h` held by live
 * holds, `|l` the limit, `|a` the alert level reported this period. A hold names its
 * budgets in its own value (`amount:ttl:scope,scope`), so whoever settles or sweeps it
 * frees them. The in-process twin is budgets-memory.ts.
 */
export const BUDGETS_LUA = `
local function budget_num(v) return tonumber(v or '0') end
local function budget_release(list, amount)
  if list == nil or list == '' then return end
  for scope in string.gmatch(list, '[^,]+') do
    if redis.call('HINCRBY', KEYS[6], scope .. '|h', -amount) < 0 then redis.call('HSET', KEYS[6], scope .. '|h', 0) end
  end
end
-- The counters of one budget in the period that starts at 'start' (a later one starts it afresh).
local function budget_current(scope, limit, start)
  local f = redis.call('HMGET', KEYS[6], scope .. '|p', scope .. '|s', scope .. '|h', scope .. '|a')
  local p, s, h, a = tonumber(f[1] or '-1'), budget_num(f[2]), budget_num(f[3]), budget_num(f[4])
  if start > p then
    p, s, a = start, 0, 0
    redis.call('HSET', KEYS[6], scope .. '|p', string.format('%.0f', p), scope .. '|s', 0, scope .. '|a', 0)
  end
  redis.call('HSET', KEYS[6], scope .. '|l', string.format('%.0f', limit))
  return { p, s, h }
end
local function budget_state(scope, limit, c) return scope .. '|' .. string.format('%.0f', limit) .. '|' .. string.format('%.0f', c[2]) .. '|' .. string.format('%.0f', c[3]) .. '|' .. string.format('%.0f', c[1]) end
-- Budgets from ARGV[first] on, three arguments each (scope, limit, period start): holds
-- 'amount' against all, or returns the state of the first that cannot cover it.
local function budget_hold(first, amount)
  local scopes = {}
  local n = (#ARGV - first + 1) / 3
  for i = 0, n - 1 do
    local scope, limit, start = ARGV[first + i * 3], tonumber(ARGV[first + i * 3 + 1]), tonumber(ARGV[first + i * 3 + 2])
    local c = budget_current(scope, limit, start)
    if c[2] + c[3] + amount > limit then return nil, budget_state(scope, limit, c) end
    scopes[#scopes + 1] = scope
  end
  for _, scope in ipairs(scopes) do redis.call('HINCRBY', KEYS[6], scope .. '|h', amount) end
  return table.concat(scopes, ','), nil
end
-- The least room left in the budgets a hold named (its own hold released): no charge takes more.
local function budget_room(list)
  local room = math.huge
  if list == nil or list == '' then return room end
  for scope in string.gmatch(list, '[^,]+') do
    local f = redis.call('HMGET', KEYS[6], scope .. '|l', scope .. '|s', scope .. '|h')
    -- A budget with no counters (lost with Redis's data) caps nothing, as in process.
    if f[1] then room = math.min(room, math.max(0, budget_num(f[1]) - budget_num(f[2]) - budget_num(f[3]))) end
  end
  return room
end
-- Adds a settled charge to the budgets a hold named; each state ends with the level first crossed now (0: none).
local function budget_charge(list, charged)
  if list == nil or list == '' then return '' end
  local out = {}
  for scope in string.gmatch(list, '[^,]+') do
    local s = redis.call('HINCRBY', KEYS[6], scope .. '|s', charged)
    local f = redis.call('HMGET', KEYS[6], scope .. '|l', scope .. '|h', scope .. '|p', scope .. '|a')
    local limit = budget_num(f[1])
    local level = 0
    if s >= limit then level = 100 elseif s * 5 >= limit * 4 then level = 80 end
    local crossed = 0
    if level > budget_num(f[4]) then
      crossed = level
      redis.call('HSET', KEYS[6], scope .. '|a', level)
    end
    out[#out + 1] = budget_state(scope, limit, { budget_num(f[3]), s, budget_num(f[2]) }) .. '|' .. crossed
  end
  return table.concat(out, ';')
end
`;

/** The ARGV tail of a reserve: scope, limit and period start of each budget. */
export function budgetArgs(budgets: readonly BudgetHold[] | undefined): string[] {
  return (budgets ?? []).flatMap((b) => [b.scope, String(b.limitMicros), String(b.periodStart)]);
}

/** Budget states as the scripts encode them: `scope|limit|spent|held|start[|crossed]`, `;` between. */
export function parseBudgetStates(encoded: string | undefined): BudgetState[] {
  if (!encoded) return [];
  return encoded.split(";").map((entry) => {
    const [scope, limit, spent, held, start, crossed] = entry.split("|");
    const level = Number(crossed);
    return {
      scope,
      limit_micros: Number(limit),
      spent_micros: Number(spent),
      reserved_micros: Number(held),
      period_start: Number(start),
      ...((level === 80 || level === 100) && { crossed: level }),
    };
  });
}
