import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";

/** Every API key starts with this, so secret scanners and humans recognise it. */
export const KEY_PREFIX = "a2a_";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const KEY_PATTERN = /^a2a_[A-Za-z0-9]{38}$/;
/** How much of the key the UI may show (`start`): the prefix and four characters. */
const START_LENGTH = KEY_PREFIX.length + 4;

/** A freshly generated key: `key` is shown once, only `digest` is ever stored. */
export interface GeneratedKey {
  key: string;
  digest: string;
  start: string;
}

/**
 * Makes a new `a2a_` key: 32 base62 characters from the platform CSPRNG (~190 bits)
 * and a 6-character checksum, so a typo or a truncated paste is caught without storage.
 */
export function generateKey(): GeneratedKey {
  const body = randomBase62(RANDOM_LENGTH);
  const key = `${KEY_PREFIX}${body}${checksum(body)}`;
  return { key, digest: digestKey(key), start: key.slice(0, START_LENGTH) };
}

/** True when `key` has the `a2a_` shape and its checksum matches. No storage involved. */
export function isWellFormedKey(key: string): boolean {
  if (!KEY_PATTERN.test(key)) return false;
  const body = key.slice(KEY_PREFIX.length, KEY_PREFIX.length + RANDOM_LENGTH);
  return key.slice(KEY_PREFIX.length + RANDOM_LENGTH) === checksum(body);
}

/** SHA-256 hex digest of a key: the only form in which a key is stored or looked up. */
export function digestKey(key: string): string {
  return nativeHash ? nativeHash("sha256", key, "hex") : bytesToHex(sha256(utf8ToBytes(key)));
}

/** Random base62 text, by rejection sampling so every character is equally likely. */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    const byte = nextRandomByte();
    // 248 = 4 * 62: bytes above it would bias the first characters.
    if (byte < 248) out += BASE62[byte % 62];
  }
  return out;
}

// --- internal ---

// CSPRNG bytes drawn 4 KiB at a time: one system call serves many ids on the hot path.
let pool = new Uint8Array(0);
let poolIndex = 0;

function nextRandomByte(): number {
  if (poolIndex >= pool.length) {
    pool = randomBytes(4096);
    poolIndex = 0;
  }
  return pool[poolIndex++];
}

// Node's one-shot `crypto.hash` (also in Bun and Deno) is ten times faster than hashing in
// JavaScript, and every request hashes twice (checksum, digest). Reached through
// `process.getBuiltinModule`, not an import, so the core still loads where there is no
// node:crypto (workers, edge); there @noble/hashes does the same.
type NativeHash = (algorithm: "sha256", data: string, encoding: "hex" | "buffer") => string & Uint8Array;
const nativeHash = (globalThis as { process?: { getBuiltinModule?: (id: string) => { hash?: NativeHash } | undefined } }).process?.getBuiltinModule?.("node:crypto")?.hash;

function checksum(body: string): string {
  const hash: Uint8Array = nativeHash ? nativeHash("sha256", body, "buffer") : sha256(utf8ToBytes(body));
  // 35 bits of the hash as 6 base62 digits (62^6 > 2^35).
  let value = ((hash[0] << 24) | (hash[1] << 16) | (hash[2] << 8) | hash[3]) >>> 0;
  value = value * 8 + (hash[4] >> 5);
  let out = "";
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}
