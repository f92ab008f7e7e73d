import { describe, expect, inject, it } from "vitest";
import { CRASH_HOLD_MICROS, runCrash } from "./_crash";

describe("a gateway process killed mid-stream (kill -9), beside another on the same Redis", () => {
  const TTL = 3000;
  const THREADS = 4;

  it("frees the dead process's holds and threads within the hold TTL, seen through the other: no charge for the lost streams, the balance never below zero and equal to the ledger", async () => {
    // The streams run one and a half TTLs before the kill: only the heartbeat kept them.
    const report = await runCrash({ redisUrl: inject("redisUrl"), holdTtlMs: TTL, threads: THREADS, runBeforeKillMs: 1.5 * TTL, timeoutMs: 4 * TTL });

    expect(report.busyBeforeKill).toEqual(Array(THREADS).fill(409));
    expect(report.reservedBeforeKill).toBe(THREADS * CRASH_HOLD_MICROS);
    // Still held right after the kill: it is the TTL that frees them, not the dead process.
    expect(report.busyAfterKill).toEqual(Array(THREADS).fill(409));
    expect(report.releasedAfterMs).toBeDefined();
    expect(report.threadsFreeAfterMs).toBeDefined();
    expect(report.releasedAfterMs!).toBeLessThan(TTL + 2000);
    expect(report.threadsFreeAfterMs!).toBeLessThan(TTL + 2000);
    // 409 while leased; 402 if a thread's lease went a moment before the holds did.
    expect(report.statusesWhileHeld.every((status) => status === 409 || status === 402)).toBe(true);

    expect(report.lowestBalance).toBeGreaterThanOrEqual(0);
    expect(report.lowestAvailable).toBeGreaterThanOrEqual(0);
    // Charged: each thread's first turn (2) and its continuation (1); the killed streams nothing.
    expect(report.final).toEqual({ balance_micros: report.creditedMicros - THREADS * 3, reserved_micros: 0 });
    expect(report.ledgerSum).toBe(report.final.balance_micros);
    expect(report.charges).toBe(2 * THREADS);
    for (const turns of report.threadTurns) expect(turns).toEqual(["hello", "next"]);
    expect(report.survivorAlive).toBe(true);
    expect(report.survivorStderr).toBe("");
  });
});
