import { H3, type CorsOptions } from "h3";
import type { Storage } from "unstorage";
import { createAdminOperations, type AdminOperations } from "./admin/operations";
import { createAdminVerifier, type AdminAuthOptions } from "./admin/token";
import { compileAliases, type ModelAliases } from "./aliases";
import { createCatalog, DEFAULT_MAX_OUTPUT_TOKENS, type Catalog } from "./catalog";
import { createHeartbeats } from "./chain/heartbeat";
import { corsMiddleware } from "./cors";
import { renderError, unexpectedError } from "./errors";
import { answerWithReasonPhrases } from "./reason-phrase";
import type { ModelInfo, Provider } from "./providers/_define";
import { registerAdminRoutes } from "./routes/admin";
import { registerChatCompletions } from "./routes/chat-completions";
import { registerMessages } from "./routes/messages";
import { registerModels } from "./routes/models";
import { registerResponses } from "./routes/responses";
import { registerThreads } from "./routes/threads";
import { registerUnknownRoutes, trackRoutes } from "./routes/unknown";
import type { GatewayRuntime, Logger, RateLimits } from "./runtime";
import type { Atomics } from "./stores/atomics";
import { cooldownsOf } from "./providers/_cooldowns-of";
import type { LedgerStore } from "./stores/ledger/types";
import { createStores } from "./stores/create-stores";
import type { Records } from "./stores/records";
import type { RedisInput } from "./stores/redis-connection";
import { createInstruments } from "./telemetry/instruments";
import type { RequestHook, TelemetryOptions } from "./telemetry/options";

export interface GatewayOptions {
  /**
   * Where every route lives: `${basePath}/v1/...` and `${basePath}/admin/...`.
   * @default "/api"
   */
  basePath?: string;
  /**
   * Documents (agents, key digests, threads, balance copies): any unstorage Storage.
   * @default createStorage() (memory); with `redis`, unstorage's redis driver on that server
   */
  storage?: Storage;
  /**
   * An ioredis client or a `redis://` URL: rate windows, balances and leases move to Redis
   * (shared by every instance), and so do documents unless `storage` is given. A URL gets
   * clients that fail fast while Redis is down and reconnect by themselves.
   */
  redis?: RedisInput;
  /**
   * Put before every Redis key: atomics under `<prefix>{<scope>}:…`, documents under `<prefix>data:…`.
   * @default "agentgate:"
   */
  redisPrefix?: string;
  /**
   * What must be atomic across requests: rate windows, balances, leases. Pass
   * `createRedisAtomics(...)` to share them between instances.
   * @default createRedisAtomics({ redis }) with `redis`, else createMemoryAtomics({ records }) (one process; balances written through to storage)
   */
  atomics?: Atomics;
  /**
   * Where every charge and credit is written, paged and summed: `createMemoryLedger()`,
   * `createFsLedger({ dir })`, `createRedisLedger({ redis })` or `createSqlLedger({ db })`.
   * `gateway.close()` closes it (the fs ledger flushes its rollups; a Redis client or db0
   * database you passed in stays open).
   * @default follows the documents: 0.1's layout in `storage` when given, the Redis ledger with documents on Redis, else createMemoryLedger() (the newest 10,000 lines; rollups and totals whole)
   */
  ledger?: LedgerStore;
  /**
   * Bounds of the default in-memory storage and ledger (no `storage`, `redis` or `ledger`
   * given): threads past `maxThreads` or `maxThreadBytes` go least recently used first;
   * the ledger keeps its newest `maxLedgerLines` lines, its totals and rollups whole.
   * @default { maxThreads: 10000, maxThreadBytes: 67108864, maxLedgerLines: 10000 }
   */
  memory?: { maxThreads?: number; maxThreadBytes?: number; maxLedgerLines?: number };
  /** How admin tokens are verified; without it, the admin API answers 401 to everyone. */
  admin?: AdminAuthOptions;
  /** Model backends; a model `x/y` is served by the provider whose id is `x`. */
  providers?: Provider[];
  /** Adds models or changes prices and sizes of catalog entries, by full name. */
  models?: Record<string, ModelInfo>;
  /**
   * Model aliases: a name (or a pattern, `*` for any characters) a client may send, routed
   * to a catalog model. The most specific wins: an exact name, then the pattern with the
   * most characters besides `*`, then the one listed first. An agent's `aliases` are looked
   * at before these. An alias to a model not in the catalog fails here.
   * @example { "claude-haiku-*": "gemini/gemini-2.5-flash", "claude-*": "anthropic/claude-sonnet-4-5" }
   */
  aliases?: ModelAliases;
  /**
   * Start from the built-in catalog of Gemini, Anthropic and OpenAI models.
   * @default true
   */
  defaultModels?: boolean;
  /** Default limits of each agent, all its keys together (an agent's `limits` override them). */
  limits?: RateLimits;
  /** Limits of each key on its own. */
  keyLimits?: RateLimits;
  threads?: {
    /** @default 2592000 (30 days after the last message) */
    ttlSeconds?: number;
    /** The oldest messages are dropped from storage past this many. @default 200 */
    maxMessages?: number;
    /**
     * A chat completion whose thread and new messages would not fit the model's context
     * window: `"auto"` sends it without the oldest turns (never the instructions, never a
     * tool call without its result), `"disabled"` answers 400 `context_length_exceeded`.
     * The stored thread keeps every message either way. A Responses request says it
     * itself (`truncation`, OpenAI's default `"disabled"`).
     * @default "auto"
     */
    truncation?: "auto" | "disabled";
    /**
     * How often expired threads are deleted from storage (Redis storage expires them by
     * itself); 0 turns the sweeper off. @default 3600000 (an hour)
     */
    sweepIntervalMs?: number;
  };
  /** OpenAI's Responses API (`POST /v1/responses`). */
  responses?: {
    /**
     * Drop built-in tools (`web_search`, `file_search`, `code_interpreter`, MCP...) from
     * requests instead of answering 400 `unsupported_parameter`: no chat upstream runs
     * them, and Codex CLI sends `web_search` on every call.
     * @default false
     */
    dropUnsupportedTools?: boolean;
  };
  /** @default 1048576 (1 MiB) */
  maxBodyBytes?: number;
  /**
   * The output cap (`max_tokens`) sent upstream when the client sets none, and what the
   * balance holds for; a model's `defaultMaxTokens` (in `models`) or its provider's wins,
   * and a model's `maxOutputTokens` bounds it.
   * @default 16384
   */
  defaultMaxTokens?: number;
  /**
   * How long a request's thread lease and balance hold outlive it when its instance dies
   * (`kill -9`, a crash): after this the thread takes requests again (no more 409
   * `thread_busy`) and the held money is free, uncharged. A running request renews both
   * every third of this, streams included, however long it runs; a renewal that fails
   * (Redis down) fails nothing. A whole number of milliseconds, at least 1000.
   * @default 30000
   */
  holdTtlMs?: number;
  upstream?: {
    /** Silence from the upstream (before the first byte, or between chunks) that ends a call with 504. @default 120000 */
    timeoutMs?: number;
    /** Retries before the first byte reaches the client, for 429, 502, 503 and 504. @default 2 */
    retries?: number;
    /** The longest wait between retries; a vendor `retry-after` longer than this is passed to the client instead. @default 10000 */
    maxRetryDelayMs?: number;
  };
  /**
   * CORS for browser clients of `${basePath}/v1/...` (`true`: any origin, no credentials,
   * `x-thread-id` and the rate-limit headers readable). The admin API never gets CORS.
   * @default off
   */
  cors?: CorsOptions | true;
  /** @default console */
  logger?: Logger;
  /**
   * Called once per period and budget when an agent's or key's spending passes 80 % and
   * 100 % of its budget (across instances with Redis), for the host's alerts. Never awaited
   * by the request; a throw is logged.
   */
  onBudgetThreshold?: GatewayRuntime["onBudgetThreshold"];
  /**
   * Models to try, in order, when a model fails before its first byte (429, 5xx, overload,
   * timeout): `{ "openai/gpt-4.1": ["anthropic/claude-sonnet-4-6"] }`. An agent's own
   * `fallbacks` for a model replace these. See README "Fallbacks".
   */
  fallbacks?: Record<string, string[]>;
  /** The clock budgets' periods are read from, in ms; for tests. @default Date.now */
  now?: () => number;
  /**
   * OpenTelemetry traces and metrics (GenAI semantic conventions): pass the host's
   * `@opentelemetry/api` module (`import * as otel from "@opentelemetry/api"`); its
   * registered SDK and exporters get the spans and metrics. @default off: no telemetry work
   */
  telemetry?: TelemetryOptions;
  /**
   * Called once per API request when it is over (a stream: at its end) with ids, counts,
   * cost and times, never a key or a message: `(record) => console.log(JSON.stringify(record))`
   * is a structured request log. @default none
   */
  onRequest?: RequestHook;
}

/** A gateway: mount `app` (h3) or call `fetch` (web standard); `admin` is the same API in-process. */
export interface Gateway {
  app: H3;
  /** Where the routes live (normalized `basePath`): `${basePath}/v1/...` and `${basePath}/admin/...`. */
  basePath: string;
  fetch: (request: Request) => Promise<Response>;
  admin: AdminOperations;
  records: Records;
  atomics: Atomics;
  ledger: LedgerStore;
  catalog: Catalog;
  /** Closes providers and atomics; in-flight write-throughs finish first. Running requests' leases and holds are no longer renewed. */
  close(): Promise<void>;
}

/**
 * Creates the gateway: an h3 app serving OpenAI's chat-completions API per agent key,
 * and the admin API for agents, keys, billing and threads.
 *
 * @example
 * const gateway = createGateway({ admin: { secret: process.env.ADMIN_SECRET! }, providers: [echo()] });
 * export default { fetch: gateway.fetch };
 */
export function createGateway(options: GatewayOptions = {}): Gateway {
  const basePath = normalizeBase(options.basePath ?? "/api");
  const providers = options.providers ?? [];
  const upstreamTimeoutMs = options.upstream?.timeoutMs ?? 120_000;
  // A request that crashes its instance frees its lease and reservation after this.
  const holdTtlMs = options.holdTtlMs ?? 30_000;
  if (!(Number.isSafeInteger(holdTtlMs) && holdTtlMs >= 1000)) throw new Error("[agentgate] `holdTtlMs` must be a whole number of milliseconds, at least 1000");
  const logger = options.logger ?? console;
  const threadTtlSeconds = options.threads?.ttlSeconds ?? 30 * 86_400;
  // Checked before any store opens: a bad alias fails here and leaves nothing running.
  const catalog = createCatalog(providers, options.models, options.defaultModels ?? true);
  const aliases = compileAliases(options.aliases, (name) => catalog.get(name) !== undefined);
  const stores = createStores({ ...options, holdTtlMs, logger, threadTtlSeconds, threadSweepIntervalMs: options.threads?.sweepIntervalMs ?? 3_600_000 });
  const { records, atomics, ledger } = stores;
  const runtime: GatewayRuntime = {
    records,
    atomics,
    ledger,
    retries: stores.retries,
    catalog,
    aliases,
    limits: options.limits ?? {},
    keyLimits: options.keyLimits ?? {},
    threads: { ttlSeconds: threadTtlSeconds, maxMessages: options.threads?.maxMessages ?? 200, truncation: options.threads?.truncation ?? "auto" },
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    defaultMaxTokens: options.defaultMaxTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    upstream: { timeoutMs: upstreamTimeoutMs, retries: options.upstream?.retries ?? 2, maxRetryDelayMs: options.upstream?.maxRetryDelayMs ?? 10_000 },
    holdTtlMs,
    heartbeats: createHeartbeats({ ttlMs: holdTtlMs, logger }),
    lastUsedIntervalMs: 60_000,
    logger,
    now: options.now,
    cooldowns: cooldownsOf(stores.atomics),
    fallbacks: options.fallbacks,
    onBudgetThreshold: options.onBudgetThreshold,
    ...((options.telemetry || options.onRequest) && { observer: { instruments: options.telemetry && createInstruments(options.telemetry), onRequest: options.onRequest, logger } }),
  };
  checkLimits(runtime.limits, "limits");
  checkLimits(runtime.keyLimits, "keyLimits");
  if (!(Number.isInteger(runtime.defaultMaxTokens) && runtime.defaultMaxTokens > 0)) throw new Error("[agentgate] `defaultMaxTokens` must be a positive whole number");

  const admin = createAdminOperations(runtime);
  const app = new H3({
    // Errors are reported once, through `logger` (below), not also on h3's console.
    silent: true,
    onError(error, event) {
      // An upload the client abandoned: one line, since the answer reaches no one.
      if ((error.data as { code?: string } | undefined)?.code === "incomplete_body") {
        logger.warn(`agentgate: a client closed the connection before sending the whole request body (${event.req.method} ${event.url.pathname}); nothing was done`);
      }
      // The client gets a generic 500; the operator gets the error with its stack (and the path: never a body or a key).
      const unexpected = unexpectedError(error);
      if (unexpected !== undefined) logger.error(`agentgate: ${event.req.method} ${event.url.pathname} answered 500 after an unexpected error`, unexpected);
      const dialect = event.context.gateway?.dialect;
      if (!dialect?.renderError) return renderError(error, event);
      try {
        return dialect.renderError(error, event);
      } catch (failure) {
        // h3 is silent: a dialect that fails to render is logged here, and OpenAI's envelope answers instead.
        logger.error(`agentgate: ${event.req.method} ${event.url.pathname}: rendering an error failed`, failure);
        return renderError(error, event);
      }
    },
  });
  answerWithReasonPhrases(app);
  const routes = trackRoutes(app);
  // Browser clients: preflights answered and answers marked, on the API-key routes only.
  if (options.cors) app.use(`${basePath}/v1/**`, corsMiddleware(options.cors));
  registerChatCompletions(app, basePath, runtime);
  registerMessages(app, basePath, runtime);
  registerResponses(app, basePath, runtime, { dropUnsupportedTools: options.responses?.dropUnsupportedTools ?? false });
  registerModels(app, basePath, runtime);
  registerThreads(app, basePath, runtime);
  registerAdminRoutes(app, `${basePath}/admin`, admin, createAdminVerifier(options.admin), runtime.maxBodyBytes);
  registerUnknownRoutes(app, basePath, routes.done());

  return {
    app,
    basePath,
    fetch: async (request) => app.fetch(request),
    admin,
    records,
    atomics,
    ledger,
    catalog: runtime.catalog,
    async close() {
      runtime.heartbeats.close();
      await Promise.allSettled(providers.map((provider) => provider.close?.()));
      await stores.close();
    },
  };
}

// --- internal ---

function normalizeBase(base: string): string {
  const trimmed = base.replace(/\/+$/, "");
  return trimmed === "" ? "" : trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

function checkLimits(limits: RateLimits, name: string): void {
  for (const [field, value] of Object.entries(limits)) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new Error(`[agentgate] \`${name}.${field}\` must be a positive whole number`);
    }
  }
}
