import { describe, expect, it } from "vitest";
import { createExpiringMemory, createKeyQueue } from "../../src/stores/key-queue";

describe("a key queue", () => {
  it("gives the oldest key first; a key queued again counts as new, a deleted one is skipped", () => {
    const queue = createKeyQueue();
    for (const key of ["a", "b", "c", "d"]) queue.push(key);
    expect(queue.oldest()).toBe("a");
    queue.push("a"); // used again: now the newest
    queue.delete("b");
    expect(queue.oldest()).toBe("c");
    expect(queue.size).toBe(3);
    queue.delete("c");
    queue.delete("d");
    expect(queue.oldest()).toBe("a");
    queue.delete("a");
    expect(queue.oldest()).toBeUndefined();
    expect(queue.size).toBe(0);
  });

  it("keeps the order a Map-based least-recently-used list would, over 200,000 random pushes, uses and takes", () => {
    const queue = createKeyQueue();
    // The reference: a Map re-inserted on use is in least-recently-used order.
    const reference = new Map<string, true>();
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
    for (let i = 0; i < 200_000; i++) {
      const key = `k${random(3_000)}`;
      const op = random(10);
      if (op < 6) {
        reference.delete(key);
        reference.set(key, true);
        queue.push(key);
      } else if (op < 8) {
        reference.delete(key);
        queue.delete(key);
      } else {
        const oldest = reference.keys().next().value;
        expect(queue.oldest()).toBe(oldest);
        if (oldest !== undefined) {
          reference.delete(oldest);
          queue.delete(oldest);
        }
      }
      expect(queue.size).toBe(reference.size);
    }
  });
});

describe("an expiring memory", () => {
  it("drops what expired in the order it was set, and the oldest past its size", () => {
    const memory = createExpiringMemory<{ expiresAt: number; n: number }>(3);
    for (let n = 1; n <= 4; n++) memory.set(`e${n}`, { expiresAt: n * 10, n });
    // Four set, three kept: the first went.
    expect(memory.get("e1")).toBeUndefined();
    expect(memory.size).toBe(3);
    memory.sweep(30);
    expect(memory.get("e2")).toBeUndefined();
    expect(memory.get("e3")).toBeUndefined();
    expect(memory.get("e4")).toEqual({ expiresAt: 40, n: 4 });
    memory.delete("e4");
    memory.sweep(1_000);
    expect(memory.size).toBe(0);
  });
});
