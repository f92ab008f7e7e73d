import { sha1 } from "@noble/hashes/legacy.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { Cluster, Redis } from "ioredis";

/** A Lua script with its SHA-1, for EVALSHA. */
export interface Script {
  lua: string;
  sha: string;
}

/** The script with its SHA-1, computed once at module load (web-standard: no node:crypto in the core). */
export function script(lua: string): Script {
  return { lua, sha: bytesToHex(sha1(utf8ToBytes(lua))) };
}

/** EVALSHA, and EVAL once when the server does not know the script yet (first use, restart). */
export function scriptRunner(client: Redis | Cluster) {
  return async (s: Script, keys: readonly string[], args: readonly string[]): Promise<unknown> => {
    try {
      return await client.evalsha(s.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
      return client.eval(s.lua, keys.length, ...keys, ...args);
    }
  };
}

export type ScriptRunner = ReturnType<typeof scriptRunner>;

/** Lua: the Redis server's clock in milliseconds, one clock for every instance. */
export const NOW = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** Braces would end a hash tag early; `%` is escaped too so the mapping stays one to one. */
export function escapeTag(scope: string): string {
  return scope.replace(/[{}%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
