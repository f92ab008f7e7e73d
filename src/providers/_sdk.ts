import { HTTPError } from "h3";
import { createAPIError, type APIErrorBody } from "../errors";
import { upstreamError, type UpstreamFailure } from "./_errors";

/**
 * The SDKs' own clocks are pushed out of the way: the gateway's deadline (`upstream.timeoutMs`)
 * is the one timeout, restarted by every chunk. One day still fits a `setTimeout`, and a
 * client-side timeout also keeps @anthropic-ai/sdk from refusing large non-streamed `max_tokens`.
 */
export const SDK_TIMEOUT_MS = 86_400_000;

/**
 * Builds an SDK client once, on first use. The vendor SDKs are optional peer dependencies:
 * a missing one becomes a 503 that names the package to install, not a crash at import time.
 */
export function lazyClient<T>(provider: string, pkg: string, create: () => Promise<T>): () => Promise<T> {
  let client: Promise<T> | undefined;
  return () =>
    (client ??= create().catch((error: unknown) => {
      client = undefined;
      throw isMissingModule(error, pkg) ? missingPeer(provider, pkg, error) : error;
    }));
}

/** The error for a provider whose SDK package is not installed. */
export function missingPeer(provider: string, pkg: string, cause?: unknown): HTTPError<APIErrorBody> {
  return createAPIError({
    code: "provider_not_configured",
    cause,
    message: `The ${provider} provider needs the \`${pkg}\` package, which is not installed on the server (npm install ${pkg}).`,
  });
}

/**
 * Maps whatever an SDK call threw, the same way for every vendor: the gateway's own aborts
 * (timeout, client gone) and errors pass through for dispatch to name, the vendor's error
 * class goes through `fromVendor`, anything else (a network failure) is a 502.
 */
export function mapSDKError<E extends Error>(
  provider: string,
  error: unknown,
  signal: AbortSignal,
  VendorError: abstract new (...args: never[]) => E,
  fromVendor: (error: E) => UpstreamFailure,
): unknown {
  if (signal.aborted || HTTPError.isError(error)) return error;
  if (error instanceof VendorError) return upstreamError(fromVendor(error));
  return upstreamError({ provider, cause: error });
}

/** Removes a secret from a vendor message before it can reach a client or a log. */
export function redact(text: string, secret: string | undefined): string {
  return secret && secret.length >= 4 ? text.split(secret).join("[redacted]") : text;
}

// --- internal ---

function isMissingModule(error: unknown, pkg: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { code?: unknown }).code;
  const missing = code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND" || /Cannot find (package|module)|Failed to (resolve|load)/i.test(error.message);
  return missing && error.message.includes(pkg);
}
