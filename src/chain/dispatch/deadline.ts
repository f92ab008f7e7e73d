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
  const start = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException("The upstream did not answer in time", "TimeoutError"));
    }, ms);
    // A pending deadline must not keep a process alive on its own.
    (timer as { unref?: () => void }).unref?.();
  };
  start();
  const touch = () => {
    if (!cleared && !controller.signal.aborted) start();
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
