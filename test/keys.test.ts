import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { digestKey, generateKey, isWellFormedKey } from "../src/keys";

describe("API keys", () => {
  it("look like a2a_ followed by base62 only, so a double-click selects the whole key", () => {
    for (let i = 0; i < 200; i++) {
      const { key } = generateKey();
      expect(key).toMatch(/^a2a_[A-Za-z0-9]{36,}$/);
    }
  });

  it("are different every time and carry at least 32 random characters", () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateKey().key));
    expect(keys.size).toBe(1000);
    expect(generateKey().key.length).toBeGreaterThanOrEqual(4 + 32);
  });

  it("pass their own checksum", () => {
    for (let i = 0; i < 100; i++) expect(isWellFormedKey(generateKey().key)).toBe(true);
  });

  it("fail the checksum after any one-character typo or a truncated paste", () => {
    const { key } = generateKey();
    for (let i = 4; i < key.length; i++) {
      const replacement = key[i] === "a" ? "b" : "a";
      expect(isWellFormedKey(key.slice(0, i) + replacement + key.slice(i + 1))).toBe(false);
    }
    expect(isWellFormedKey(key.slice(0, -1))).toBe(false);
    expect(isWellFormedKey(`${key}x`)).toBe(false);
    expect(isWellFormedKey(key.replace("a2a_", "a2b_"))).toBe(false);
  });

  it("check and digest the same on Node's native hash as in JavaScript (workers, edge), so a key made on one runtime works on every other", () => {
    // Made before the native hash was used, by @noble/hashes alone.
    const earlier = { key: "a2a_wgTCi6WxxyE24tm6wnehVnHOA3OdcrxmZLnpyQ", digest: "5347e00eefa8524d90bb9e9811e4a7e9e3066c1904b261141956b6abcc9570f6" };
    expect(isWellFormedKey(earlier.key)).toBe(true);
    expect(digestKey(earlier.key)).toBe(earlier.digest);
    for (let i = 0; i < 100; i++) {
      const { key, digest } = generateKey();
      expect(digest).toBe(bytesToHex(sha256(utf8ToBytes(key))));
    }
  });

  it("are stored as a SHA-256 digest that does not contain the key", () => {
    const { key, digest, start } = generateKey();
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(digest).toBe(digestKey(key));
    expect(digest).not.toContain(key.slice(4, 12));
    expect(key.startsWith(start)).toBe(true);
    expect(start.length).toBeLessThan(12);
  });
});
