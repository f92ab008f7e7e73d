import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStorage, defineDriver, type Driver } from "unstorage";
import fsLiteDriver from "unstorage/drivers/fs-lite";
import { afterAll, describe, expect, it } from "vitest";
import { boundedDriver } from "../../src/stores/bounded-driver";

const dirs: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), "agentgate-bounded-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The real fs-lite driver, counting how many of its reads and writes are in flight. */
function countingFsLite(base: string) {
  const inner = fsLiteDriver({ base });
  const peak = { reads: 0, writes: 0 };
  let reads = 0;
  let writes = 0;
  const driver = defineDriver(() => ({
    ...inner,
    async getItem(key, opts) {
      peak.reads = Math.max(peak.reads, ++reads);
      try {
        return await inner.getItem(key, opts);
      } finally {
        reads--;
      }
    },
    async setItem(key, value, opts) {
      peak.writes = Math.max(peak.writes, ++writes);
      try {
        return await inner.setItem!(key, value, opts);
      } finally {
        writes--;
      }
    },
  }))({}) as Driver;
  return { driver, peak };
}

describe("boundedDriver over unstorage's fs-lite driver", () => {
  it("keeps at most 64 reads and 64 writes in flight however many a listing asks for", async () => {
    const { driver, peak } = countingFsLite(fresh());
    const storage = createStorage({ driver: boundedDriver(driver) });
    const keys = Array.from({ length: 500 }, (_, i) => `threads:t${i}`);
    await Promise.all(keys.map((key, i) => storage.setItem(key, { i })));
    const items = await storage.getItems(keys);
    expect(items.map((item) => (item.value as { i: number }).i)).toEqual(keys.map((_, i) => i));
    expect(peak.writes).toBeLessThanOrEqual(64);
    expect(peak.reads).toBeLessThanOrEqual(64);
    // Bounded, not one at a time.
    expect(peak.reads).toBeGreaterThan(1);
  });

  it("can be given other bounds", async () => {
    const { driver, peak } = countingFsLite(fresh());
    const storage = createStorage({ driver: boundedDriver(driver, { maxReads: 3, maxWrites: 2 }) });
    const keys = Array.from({ length: 50 }, (_, i) => `k:${i}`);
    await Promise.all(keys.map((key) => storage.setItem(key, 1)));
    await storage.getItems(keys);
    expect(peak).toEqual({ reads: 3, writes: 2 });
  });

  it("throws the read and delete failures fs-lite resolves as values", async () => {
    const base = fresh();
    const raw = createStorage({ driver: fsLiteDriver({ base }) });
    const bounded = createStorage({ driver: boundedDriver(fsLiteDriver({ base })) });
    // `doc` is a file, so `doc:part` names a path below a file: ENOTDIR, as EMFILE or EIO would be.
    await raw.setItem("doc", { ok: true });
    expect(await raw.getItem("doc:part")).toBeInstanceOf(Error);
    await expect(raw.removeItem("doc:part")).resolves.toBeUndefined();
    await expect(bounded.getItem("doc:part")).rejects.toThrow(/ENOTDIR/);
    await expect(bounded.removeItem("doc:part")).rejects.toThrow(/ENOTDIR/);
    // What is there, and what is not, still reads as before.
    expect(await bounded.getItem("doc")).toEqual({ ok: true });
    expect(await bounded.getItem("missing")).toBeNull();
    await bounded.removeItem("missing");
    expect(await bounded.getKeys()).toEqual(["doc"]);
  });
});
