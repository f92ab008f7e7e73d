/** Runs a task within the limit. */
export type Limit = <T>(task: () => Promise<T>) => Promise<T>;

/** Runs at most `max` tasks at once; the others wait their turn in order. */
export function createLimit(max: number): Limit {
  if (!(Number.isSafeInteger(max) && max > 0)) throw new TypeError("[agentgate] a concurrency limit must be a positive whole number");
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    // A finished task hands its slot straight to the next in line, so `running` never passes `max`.
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}

