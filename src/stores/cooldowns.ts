import type { CooldownStore } from "../providers/_key-pool";
import { script, type ScriptRunner } from "./redis-scripts";

/** Key-pool cooldowns in this process only (the in-process atomics driver's). */
export function createMemoryCooldowns(): CooldownStore {
  const pools = new Map<string, Map<string, number>>(); // pool -> member -> cooling until (ms)
  return {
    async coolDown(pool, member, ms) {
      let members = pools.get(pool);
      if (!members) pools.set(pool, (members = new Map()));
      members.set(member, Math.max(members.get(member) ?? 0, Date.now() + ms));
    },
    async coolingDown(pool) {
      const now = Date.now();
      const out: Record<string, number> = {};
      for (const [member, until] of pools.get(pool) ?? []) if (until > now) out[member] = until - now;
      return out;
    },
  };
}

/**
 * Key-pool cooldowns shared by every instance on one Redis: one hash per pool
 * (`<prefix>{pool:<id>}:cooldowns`, member -> until, on the server's clock), one script
 * per call. The key lives as long as its longest cooldown.
 */
export function createRedisCooldowns(run: ScriptRunner, key: (scope: string, what: string) => string): CooldownStore {
  return {
    async coolDown(pool, member, ms) {
      await run(COOL_DOWN, [key(`pool:${pool}`, "cooldowns")], [member, String(Math.ceil(ms))]);
    },
    async coolingDown(pool) {
      const reply = (await run(COOLING_DOWN, [key(`pool:${pool}`, "cooldowns")], [])) as Array<string | number>;
      const out: Record<string, number> = {};
      for (let i = 0; i < reply.length; i += 2) out[String(reply[i])] = Number(reply[i + 1]);
      return out;
    },
  };
}

const NOW_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// ARGV: member, ms. A longer cooldown already there stays.
const COOL_DOWN = script(`${NOW_LUA}
local untilMs = now + tonumber(ARGV[2])
local held = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if untilMs > held then redis.call('HSET', KEYS[1], ARGV[1], string.format('%.0f', untilMs)) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`);

// Replies member, ms left, ... for the members still cooling; drops the others.
const COOLING_DOWN = script(`${NOW_LUA}
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local left = tonumber(all[i + 1]) - now
  if left > 0 then
    out[#out + 1] = all[i]
    out[#out + 1] = left
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return out
`);
