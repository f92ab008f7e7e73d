import type { AliasTable } from "./aliases";
import type { Catalog } from "./catalog";
import type { BudgetThresholdEvent } from "./chain/budgets";
import type { Truncation } from "./chain/context-window";
import type { Heartbeats } from "./chain/heartbeat";
import type { CooldownStore } from "./providers/_key-pool";
import type { Atomics } from "./stores/atomics";
import type { LedgerStore } from "./stores/ledger/types";
import type { Records } from "./stores/records";
import type { RetryQueue } from "./stores/retry-queue";
import type { Observer } from "./telemetry/observe";

/** Requests and tokens per minute; unset means unlimited. */
export interface RateLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/** Where the gateway writes what it logs; never a plaintext key. */
export interface Logger {
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

/** Everything the chain steps and routes share, resolved once by createGateway. */
export interface GatewayRuntime {
  records: Records;
  atomics: Atomics;
  ledger: LedgerStore;
  catalog: Catalog;
  /** The gateway's model aliases (`createGateway({ aliases })`), compiled once; an agent's own come first. */
  aliases: AliasTable;
  /** Default limits of each agent as a whole (an agent's own `limits` override them). */
  limits: RateLimits;
  /** Limits of each key on its own. */
  keyLimits: RateLimits;
  /** `truncation`: what a prompt past the model's context window gets, unless the request says (Responses' `truncation`). */
  threads: { ttlSeconds: number; maxMessages: number; truncation: Truncation };
  maxBodyBytes: number;
  /** The output cap sent and held for when neither the client, the model nor its provider sets one. */
  defaultMaxTokens: number;
  upstream: { timeoutMs: number; retries: number; maxRetryDelayMs: number };
  /** How long a lease or reservation may outlive a crashed request; live ones are renewed. */
  holdTtlMs: number;
  /** Renews the leases and holds of running requests, every `holdTtlMs / 3`. */
  heartbeats: Heartbeats;
  /** Settle-time writes that failed (storage or Redis down), retried in the background. */
  retries: RetryQueue;
  /** How often, at most, a key's last-used time is written. */
  lastUsedIntervalMs: number;
  logger: Logger;
  /** Fallback models by model name, for agents without their own list for it. */
  fallbacks?: Record<string, string[]>;
  /** Where key pools share cooldowns (the atomics' when they keep them). */
  cooldowns?: CooldownStore;
  /** The clock budgets' periods are read from (tests set it); Date.now when unset. */
  now?: () => number;
  /** Told once per period and budget when it passes 80 % and 100 % (the host's alerts). */
  onBudgetThreshold?: (event: BudgetThresholdEvent) => void | Promise<void>;
  /** Spans, metrics and request records; absent when the gateway has neither `telemetry` nor `onRequest`. */
  observer?: Observer;
}
