import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { agentgateFsDriver, createFsStorage } from "../../src/stores/fs-storage";
import { createLimit } from "../../src/stores/limit";

const dirs: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), "agentgate-fs-storage-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("agentgate's fs storage", () => {
  it("walks only the folder a prefix names when it lists keys", async () => {
    const dir = fresh();
    const storage = createFsStorage({ dir });
    for (let i = 0; i < 200; i++) await storage.setItem(`threads:${String(i % 16).padStart(2, "0")}:thread_${i}`, { i });
    await storage.setItem("agent-threads:agt_1:thread_1", 1);
    await storage.setItem("agent-threads:agt_1:thread_2", 1);
    await storage.setItem("agent-threads:agt_10:thread_3", 1);
    // The driver itself, not the storage around it (which filters what any driver returns).
    const driver = agentgateFsDriver({ dir });
    expect((await driver.getKeys!("agent-threads:agt_1:", {})).sort()).toEqual(["agent-threads:agt_1:thread_1", "agent-threads:agt_1:thread_2"]);
    expect(await storage.getKeys("agent-threads:agt_1:")).toHaveLength(2);
    expect(await storage.getKeys("threads:")).toHaveLength(200);
    expect(await storage.getKeys("nothing:here:")).toEqual([]);
  });

  it("takes away the folders a remove leaves empty, up to its own folder, and a write into a folder going away still lands", async () => {
    const dir = fresh();
    const storage = createFsStorage({ dir });
    await storage.setItem("thread-responses:thread_1:resp_1", "{}");
    await storage.setItem("thread-responses:thread_2:resp_2", "{}");
    await storage.removeItem("thread-responses:thread_1:resp_1");
    expect(readdirSync(join(dir, "thread-responses"))).toEqual(["thread_2"]);
    await storage.removeItem("thread-responses:thread_2:resp_2");
    expect(readdirSync(dir)).toEqual([]);
    // Removes and writes in one folder at once: every write lands.
    for (let i = 0; i < 50; i++) {
      await storage.setItem("t:x:old", "{}");
      await Promise.all([storage.removeItem("t:x:old"), storage.setItem(`t:x:new${i}`, "{}")]);
      expect(await storage.getItem(`t:x:new${i}`)).toEqual({});
      await storage.removeItem(`t:x:new${i}`);
    }
    expect(readdirSync(dir)).toEqual([]);
    // A whole segment whose folder went with its last key lists nothing, without walking the rest of the store.
    await storage.setItem("ledger:2024-01-01:x", "{}");
    expect(await agentgateFsDriver({ dir }).getKeys!("thread-responses:", {})).toEqual([]);
  });

  it("rejects a read it cannot do instead of answering with the error", async () => {
    const dir = fresh();
    const storage = createFsStorage({ dir });
    mkdirSync(join(dir, "keys", "a-folder"), { recursive: true });
    await expect(storage.getItem("keys:a-folder")).rejects.toThrow(/EISDIR/);
    expect(await storage.getItem("keys:missing")).toBeNull();
  });

  it("leaves the old document whole when a write did not finish, and lists no half-written file", async () => {
    const dir = fresh();
    const storage = createFsStorage({ dir });
    await storage.setItem("threads:ab:thread_1", { turn: 1 });
    // What a process killed between writing and renaming leaves behind.
    writeFileSync(join(dir, "threads", "ab", "thread_1.1234abcd.tmp"), '{"turn": 2, "mess');
    expect(await storage.getItem("threads:ab:thread_1")).toEqual({ turn: 1 });
    expect(await storage.getKeys("threads:")).toEqual(["threads:ab:thread_1"]);
    await storage.setItem("threads:ab:thread_1", { turn: 2 });
    expect(await storage.getItem("threads:ab:thread_1")).toEqual({ turn: 2 });
    expect(readdirSync(join(dir, "threads", "ab")).filter((name) => !name.endsWith(".tmp"))).toEqual(["thread_1"]);
  });

  it("answers thousands of reads at once within its open-file budget", async () => {
    const storage = createFsStorage({ dir: fresh(), maxOpenFiles: 4 });
    await Promise.all(Array.from({ length: 300 }, (_, i) => storage.setItem(`docs:${i}`, { i })));
    const values = await Promise.all(Array.from({ length: 3000 }, (_, i) => storage.getItem<{ i: number }>(`docs:${i % 300}`)));
    expect(values.map((value) => value?.i)).toEqual(Array.from({ length: 3000 }, (_, i) => i % 300));
  });
});

describe("a concurrency limit", () => {
  it("never runs more than its limit at once, and runs every task in order of arrival", async () => {
    const limit = createLimit(3);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const tasks = Array.from({ length: 50 }, (_, i) =>
      limit(async () => {
        started.push(i);
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, i % 3));
        running -= 1;
        if (i === 7) throw new Error("task 7 fails");
        return i;
      }),
    );
    const results = await Promise.allSettled(tasks);
    expect(peak).toBe(3);
    expect(started).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(results.filter((result) => result.status === "rejected")).toHaveLength(1);
    // A failed task gives its slot back: a task queued after the batch still runs.
    expect(await limit(async () => "after")).toBe("after");
  });
});
