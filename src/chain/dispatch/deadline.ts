/** An abort signal that fires when the client goes away or the upstream stays silent too long. */
export interface Deadline {
  signal: AbortSignal;
  /** True once the time ran out (as opposed to the client leaving). */
  readonly timedOut: boolean;
  /** Restarts the clock: a stream that keeps sending is never cut. */
  touch(): void;
  /** Aborts now (the client cancelled the stream). */
  abort(reason?: unknown): void;
  clear(): void;
}

/** Starts a deadline of `ms` of silence, tied to the client's own signal. */
export function createDeadline(ms: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener("abort", onParentAbort, { once: true });

  let cleared = false;
  // `touch` only notes the time (a stream touches on every frame); the one timer, when it
  // fires, waits again for what is left of the silence since the last touch.
  let lastTouch = Date.now();
  const arm = (wait: number) => {
    timer = setTimeout(() => {
      if (cleared || controller.signal.aborted) return;
      const left = lastTouch + ms - Date.now();
      if (left > 0) return arm(left);
      timedOut = true;
      controller.abort(new DOMException("The upstream did not answer in time", "TimeoutError"));
    }, wait);
    // A pending deadline must not keep a process alive on its own.
    (timer as { unref?: () => void }).unref?.();
  };
  arm(ms);
  const touch = () => {
    lastTouch = Date.now();
  };

  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    touch,
    abort: (reason) => controller.abort(reason),
    clear: () => {
      cleared = true;
      clearTimeout(timer);
      parent?.removeEventListener("abort", onParentAbort);
    },
  };
}
