import type { Logger } from "../runtime";

/**
 * Finishes what a request already owes when storage or Redis fails at settle time: the
 * charge and its ledger entry, the thread's new turn, the lease and reservation to give
 * back. A task runs at once; if it fails it is retried in the background with backoff
 * until it succeeds or `maxAgeMs` passes (by then the reservation and lease have expired
 * by themselves). Tasks must be safe to run again (settles are idempotent per reservation).
 */
export interface RetryQueue {
  /** Runs `task` now and, if it fails, again later. Never rejects. */
  attempt(label: string, task: () => Promise<unknown>): Promise<void>;
  /** Tasks waiting for their next try. */
  readonly pending: number;
  /** How long a failed task is retried before it is given up on. */
  readonly maxAgeMs: number;
  /** Tries every pending task once more, then drops what still fails. */
  close(): Promise<void>;
}

export interface RetryQueueOptions {
  logger: Logger;
  /** Give up after this long: no longer than a settle is remembered (SETTLE_MEMORY_MS), by when expiry has freed every hold and lease. */
  maxAgeMs: number;
  /** @default 200 */
  minDelayMs?: number;
  /** @default 5000 */
  maxDelayMs?: number;
}

export function createRetryQueue(options: RetryQueueOptions): RetryQueue {
  const { logger, maxAgeMs } = options;
  const minDelay = options.minDelayMs ?? 200;
  const maxDelay = options.maxDelayMs ?? 5_000;
  const waiting = new Map<symbol, { label: string; task: () => Promise<unknown>; timer: ReturnType<typeof setTimeout> }>();
  // At most one warning per 10 s for each kind of task (its label without ids), so an
  // outage is said once per kind, and one kind failing never hides another.
  const lastWarning = new Map<string, number>();

  const warn = (label: string, error: unknown) => {
    const now = Date.now();
    const kind = label.split(" ").filter((word) => !word.includes("_")).join(" ");
    if (now - (lastWarning.get(kind) ?? -Infinity) < 10_000) return;
    lastWarning.set(kind, now);
    logger.warn(`agentgate: could not finish "${label}" (storage or Redis unavailable); retrying in the background (${waiting.size} waiting)`, errorText(error));
  };

  const schedule = (id: symbol, label: string, task: () => Promise<unknown>, delay: number, giveUpAt: number) => {
    const timer = setTimeout(async () => {
      try {
        await task();
        waiting.delete(id);
      } catch (error) {
        if (!waiting.has(id)) return; // closed meanwhile
        if (Date.now() + delay > giveUpAt) {
          waiting.delete(id);
          logger.error(`agentgate: gave up on "${label}"; its reservation and lease expire by themselves`, errorText(error));
          return;
        }
        schedule(id, label, task, Math.min(delay * 2, maxDelay), giveUpAt);
      }
    }, delay);
    // Pending retries never keep a process alive on their own.
    timer.unref?.();
    waiting.set(id, { label, task, timer });
  };

  return {
    async attempt(label, task) {
      try {
        await task();
      } catch (error) {
        const id = Symbol(label);
        schedule(id, label, task, minDelay, Date.now() + maxAgeMs);
        warn(label, error);
      }
    },
    get pending() {
      return waiting.size;
    },
    maxAgeMs,
    async close() {
      const last = [...waiting.values()];
      for (const entry of last) clearTimeout(entry.timer);
      waiting.clear();
      const results = await Promise.allSettled(last.map((entry) => entry.task()));
      const dropped = results.filter((result) => result.status === "rejected").length;
      if (dropped) logger.error(`agentgate: closed with ${dropped} unfinished settle steps; their reservations and leases expire by themselves`);
    },
  };
}

// --- internal ---

function errorText(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  return String(cause instanceof Error ? cause.message : error instanceof Error ? error.message : error);
}
