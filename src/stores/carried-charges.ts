import type { RateWindow } from "./atomics";

/** How long a charge waits for its scope's next hit before it is written on its own. */
export const CARRY_MS = 100;

/**
 * Rate charges (`chargeRate`: the tokens an answer used beyond its estimate) waiting to be
 * carried by their scope's next hit from this process, in the hit's own script: one
 * round trip fewer a request. A charge no hit takes within `CARRY_MS` is written on its
 * own (`write`), as is every waiting one on `flush` (close). Best effort, as a charge
 * always was: one whose write fails is dropped, and that window is a little looser once.
 */
export interface CarriedCharges {
  add(scope: string, windows: readonly RateWindow[]): void;
  /** The scope's waiting charges (costs summed per window), now the caller's to write. */
  take(scope: string): RateWindow[] | undefined;
  flush(): Promise<void>;
}

export function createCarriedCharges(write: (scope: string, windows: RateWindow[]) => Promise<void>, carryMs = CARRY_MS): CarriedCharges {
  // Scope -> window name -> the window with its waiting cost (the latest limit and period).
  const waiting = new Map<string, Map<string, RateWindow>>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const writeAll = async () => {
    timer = undefined;
    const scopes = [...waiting.keys()];
    await Promise.all(scopes.map((scope) => write(scope, take(scope) ?? []).catch(() => {})));
  };
  const take = (scope: string): RateWindow[] | undefined => {
    const windows = waiting.get(scope);
    if (!windows) return undefined;
    waiting.delete(scope);
    return [...windows.values()];
  };

  return {
    add(scope, windows) {
      let byName = waiting.get(scope);
      if (!byName) waiting.set(scope, (byName = new Map()));
      for (const window of windows) {
        if (window.cost <= 0) continue;
        const earlier = byName.get(window.name);
        byName.set(window.name, { ...window, cost: window.cost + (earlier?.cost ?? 0) });
      }
      if (byName.size === 0) waiting.delete(scope);
      if (timer === undefined && waiting.size > 0) {
        timer = setTimeout(writeAll, carryMs);
        // A waiting charge never keeps the process alive; `flush` writes it on close.
        (timer as { unref?: () => void }).unref?.();
      }
    },
    take,
    async flush() {
      if (timer !== undefined) clearTimeout(timer);
      await writeAll();
    },
  };
}
