import { describe, expect, it } from "vitest";
import { createRetryQueue } from "../../src/stores/retry-queue";

describe("the settle retry queue", () => {
  const quiet = () => {
    const lines: string[] = [];
    return { lines, logger: { warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) } };
  };

  it("runs a task at once and never rejects", async () => {
    const { logger } = quiet();
    const queue = createRetryQueue({ logger, maxAgeMs: 1000 });
    let runs = 0;
    await queue.attempt("ok", async () => runs++);
    expect(runs).toBe(1);
    expect(queue.pending).toBe(0);
    await expect(queue.attempt("fails", () => Promise.reject(new Error("down")))).resolves.toBeUndefined();
    expect(queue.pending).toBe(1);
    await queue.close();
  });

  it("retries a failing task in the background until it succeeds", async () => {
    const { lines, logger } = quiet();
    const queue = createRetryQueue({ logger, maxAgeMs: 5000, minDelayMs: 10, maxDelayMs: 20 });
    let runs = 0;
    await queue.attempt("settle res_1", async () => {
      if (++runs < 4) throw new Error("ECONNREFUSED");
    });
    expect(runs).toBe(1);
    await expect.poll(() => runs, { timeout: 2000 }).toBe(4);
    expect(queue.pending).toBe(0);
    expect(lines.filter((l) => l.startsWith("warn"))).toHaveLength(1);
    expect(lines[0]).toContain('"settle res_1"');
    await queue.close();
  });

  it("warns once per kind of task in an outage, so one failing kind never hides another", async () => {
    const { lines, logger } = quiet();
    const queue = createRetryQueue({ logger, maxAgeMs: 60_000, minDelayMs: 60_000 });
    const down = () => Promise.reject(new Error("NOPERM"));
    for (let i = 0; i < 5; i++) await queue.attempt(`settle res_${i}`, down);
    await queue.attempt("forget ledger lines written ahead", down);
    await queue.attempt("release a thread lease", down);
    await queue.attempt("release a thread lease", down);
    const warnings = lines.filter((l) => l.startsWith("warn"));
    expect(warnings).toHaveLength(3);
    expect(warnings.map((w) => /"([^"]+)"/.exec(w)![1])).toEqual(["settle res_0", "forget ledger lines written ahead", "release a thread lease"]);
    await queue.close();
  });

  it("gives up after maxAgeMs, saying so", async () => {
    const { lines, logger } = quiet();
    const queue = createRetryQueue({ logger, maxAgeMs: 60, minDelayMs: 10, maxDelayMs: 10 });
    let runs = 0;
    await queue.attempt("settle res_2", async () => {
      runs++;
      throw new Error("still down");
    });
    await expect.poll(() => queue.pending, { timeout: 2000 }).toBe(0);
    const settled = runs;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runs).toBe(settled);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => l.startsWith("error") && l.includes("gave up") && l.includes("settle res_2"))).toBe(true);
  });

  it("tries every pending task once more on close, then stops", async () => {
    const { logger } = quiet();
    const queue = createRetryQueue({ logger, maxAgeMs: 60_000, minDelayMs: 60_000 });
    let up = false;
    let done = 0;
    for (let i = 0; i < 3; i++) {
      await queue.attempt(`task ${i}`, async () => {
        if (!up) throw new Error("down");
        done++;
      });
    }
    expect(queue.pending).toBe(3);
    up = true;
    await queue.close();
    expect(done).toBe(3);
    expect(queue.pending).toBe(0);
  });
});
