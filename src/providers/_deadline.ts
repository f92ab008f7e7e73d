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
  touches.set(controller.signal, touch);

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
      touches.delete(controller.signal);
      parent?.removeEventListener("abort", onParentAbort);
    },
  };
}

/** Each live deadline's `touch`, by the signal a provider is handed. */
const touches = new WeakMap<AbortSignal, () => void>();

/**
 * Restarts the clock of the deadline behind a provider's `signal`: any upstream event
 * proves the vendor alive, also one that makes no chunk (Anthropic's `ping`, a thinking
 * block). A signal that is not a deadline's is left alone.
 */
export function keepAlive(signal: AbortSignal): void {
  touches.get(signal)?.();
}

/** The same response, its body calling `keepAlive(signal)` on every piece that arrives. */
export function keepAliveBody(response: Response, signal: AbortSignal): Response {
  if (!response.body) return response;
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    transform(piece, controller) {
      keepAlive(signal);
      controller.enqueue(piece);
    },
  });
  return new Response(response.body.pipeThrough(tap), { status: response.status, statusText: response.statusText, headers: response.headers });
}
