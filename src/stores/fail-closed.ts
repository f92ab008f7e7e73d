import { HTTPError } from "h3";
import { createAPIError } from "../errors";
import type { Logger } from "../runtime";

/**
 * Wraps records or atomics so that any failure of the store behind them (Redis down, a
 * full disk, a timeout) becomes one clear 503 `service_unavailable`: the chain stops
 * before anything is admitted or charged, the client's SDK retries, and the gateway
 * serves again as soon as the store answers. HTTP errors pass through unchanged. The
 * cause is logged (at most every 10 s), never sent.
 */
export function failClosed<T extends object>(target: T, what: string, logger: Logger): T {
  const wrapped = new Map<PropertyKey, unknown>();
  let lastLogged = 0;
  const toUnavailable = (error: unknown): unknown => {
    if (HTTPError.isError(error)) return error;
    const now = Date.now();
    if (now - lastLogged > 10_000) {
      lastLogged = now;
      logger.error(`agentgate: the ${what} is unavailable; answering 503 until it is back`, error instanceof Error ? error.message : String(error));
    }
    return createAPIError({
      code: "service_unavailable",
      message: `The gateway cannot reach its ${what} right now, so it refuses requests rather than guess (nothing was charged). Retry in a moment.`,
      headers: { "retry-after": "1" },
      cause: error,
    });
  };

  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      let fn = wrapped.get(property);
      if (!fn) {
        fn = function failClosedCall(this: unknown, ...args: unknown[]) {
          let result: unknown;
          try {
            result = value.apply(object, args);
          } catch (error) {
            return Promise.reject(toUnavailable(error));
          }
          return result instanceof Promise ? result.catch((error) => Promise.reject(toUnavailable(error))) : result;
        };
        wrapped.set(property, fn);
      }
      return fn;
    },
  });
}
