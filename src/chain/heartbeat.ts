import type { H3Event } from "h3";
import { useGatewayContext } from "../context";
import type { GatewayRuntime, Logger } from "../runtime";

/**
 * Keeps what a running request holds (its thread lease, its balance hold) from expiring.
 * Leases and holds have a short TTL, so those of a killed instance are free again soon;
 * a live request renews its own every TTL/3, streams included, until it settles.
 */
export interface Heartbeat {
  /** Renews with `renew` on every beat until `stop`; `renew` answers false when it is gone. */
  keep(what: string, renew: (ttlMs: number) => Promise<boolean>): void;
  /** No more beats (settle, or the request was aborted). Safe to call again. */
  stop(): void;
}

/** The gateway's heartbeats: one per request, sharing the TTL and one throttled warning. */
export interface Heartbeats {
  /** A heartbeat beating every TTL/3; `late`: every TTL/6, and at least every second (see keepWhileRetried). */
  start(options?: { late?: boolean }): Heartbeat;
  /** Stops every heartbeat still beating (the gateway closes). */
  close(): void;
}

/** The slowest beat of what waits for a retried settle: a second, or TTL/6 when shorter (see keepWhileRetried). */
const LATE_INTERVAL_MS = 1_000;

/** Renewals that fail (Redis down) are reported at most this often. */
const FAILURE_REPORT_MS = 10_000;

export function createHeartbeats(options: { ttlMs: number; logger: Logger }): Heartbeats {
  const { ttlMs, logger } = options;
  const live = new Set<() => void>();
  // Closed: what a late settle asks for afterwards beats no more (the gateway is going away).
  let closed = false;
  let lastFailure = -Infinity;
  const failed = (error: unknown) => {
    const now = Date.now();
    if (now - lastFailure < FAILURE_REPORT_MS) return;
    lastFailure = now;
    logger.warn(`agentgate: could not renew a thread lease or balance hold (Redis unavailable?); the requests go on, and what they hold expires ${ttlMs} ms after its last renewal`, errorText(error));
  };

  return {
    start(options) {
      const every = Math.max(1, Math.floor(options?.late ? Math.min(ttlMs / 6, LATE_INTERVAL_MS) : ttlMs / 3));
      const kept: Array<{ what: string; renew: (ttlMs: number) => Promise<boolean> }> = [];
      let timer: ReturnType<typeof setInterval> | undefined;
      let beating = false;
      let stopped = closed;

      const renewOne = async (entry: (typeof kept)[number]) => {
        try {
          if ((await entry.renew(ttlMs)) || stopped) return;
          kept.splice(kept.indexOf(entry), 1);
          logger.warn(`agentgate: the ${entry.what} expired before its request ended (it is no longer renewed); the request goes on without it`);
        } catch (error) {
          // Best effort: the next beat tries again.
          if (!stopped) failed(error);
        }
      };
      const beat = async () => {
        if (beating) return; // the last renewals are still on their way
        beating = true;
        await Promise.all(kept.map(renewOne));
        beating = false;
      };
      const stop = () => {
        stopped = true;
        clearInterval(timer);
        live.delete(stop);
      };

      return {
        keep(what, renew) {
          if (stopped) return;
          kept.push({ what, renew });
          if (timer) return;
          timer = setInterval(beat, every);
          // A beating request never keeps the process alive on its own.
          timer.unref?.();
          live.add(stop);
        },
        stop,
      };
    },
    close() {
      closed = true;
      for (const stop of [...live]) stop();
    },
  };
}

/**
 * Keeps what a settle step holds (a balance hold, a thread lease) while the step waits in
 * the retry queue (storage or Redis down): a settle that finds its hold expired charges
 * nothing, and a thread whose lease lapsed lets a follow-up read it without the turn. It is
 * renewed every TTL/6 (so soon after Redis is back, before it expires) until `done()`, until
 * `renew` finds it gone, or past `until` (when the retries give up). Returns the beat.
 */
export function keepWhileRetried(heartbeats: Heartbeats, what: string, renew: (ttlMs: number) => Promise<boolean>, done: () => boolean, until: number): Heartbeat {
  const beat = heartbeats.start({ late: true });
  beat.keep(what, async (ttlMs) => {
    const renewed = !done() && Date.now() <= until && (await renew(ttlMs));
    if (!renewed) beat.stop();
    return renewed;
  });
  return beat;
}

/** The request's heartbeat, started by the first step that keeps something alive. */
export function useHeartbeat(event: H3Event, runtime: GatewayRuntime): Heartbeat {
  return (useGatewayContext(event).heartbeat ??= runtime.heartbeats.start());
}

// --- internal ---

function errorText(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  return String(cause instanceof Error ? cause.message : error instanceof Error ? error.message : error);
}
