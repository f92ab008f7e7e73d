import type { H3Event } from "h3";
import type { CatalogEntry } from "./catalog";
import { createAPIError } from "./errors";
import type { AdminIdentity } from "./admin/token";
import type { Truncation } from "./chain/context-window";
import type { Heartbeat } from "./chain/heartbeat";
import type { Dialect } from "./dialects/types";
import type { Provider } from "./providers/_define";
import type { AssistantMessage, ChatMessage, ChatRequest, Usage } from "./schema";
import type { RateWindow } from "./stores/atomics";
import type { Observation } from "./telemetry/observe";
import type { AgentRecord, KeyRecord, ThreadRecord } from "./stores/records";

/** How a request ended, handed to every settler. */
export interface Outcome {
  /** The vendor's final usage, or an estimate of what was generated before a cut. */
  usage?: Usage;
  /** What the assistant said (possibly partial); kept in the thread when present. */
  reply?: AssistantMessage;
  /** Set when the request failed; nothing is charged unless `usage` says text was generated. */
  error?: unknown;
  /** The answer as the dialect sent it (the JSON body, or the whole answer a stream added up to). */
  answer?: unknown;
  /** Why the answer ended (`stop`, `length`, `tool_calls`...), for telemetry. */
  finishReason?: string;
}

/** Undoes or completes what one step acquired (a reservation, a lease...). */
export type Settler = (outcome: Outcome) => Promise<void> | void;

/** What the chain's steps know about one request, each step adding its own part. */
export interface GatewayContext {
  /** The route's wire format: its answers, stream events and error envelope (chat completions when unset). */
  dialect?: Dialect;
  /**
   * Set by a dialect's parser for a request that keeps no history (Responses with
   * `store: false`, Messages without `x-thread-id`): no thread is leased, read or written.
   */
  stateless?: boolean;
  /**
   * Messages to an `anthropic/` model: the client's body as it came, sent on with only
   * `model` replaced (see src/chain/dispatch/pass-through.ts).
   */
  passThrough?: { body: Record<string, unknown>; version?: string; beta?: string };
  /**
   * Set by a route whose clients ask for more output than they need (Messages: Claude Code
   * sends `max_tokens: 64000`): a balance that cannot cover the whole cap gets a hold, and
   * an output cap, fitted to it rather than a 402.
   */
  fitOutputToBalance?: boolean;
  /**
   * Set by a dialect's parser: instructions for this request only (Responses'
   * `instructions`), sent after the agent's own and never saved in the thread.
   */
  instructions?: string;
  /** Set by a dialect's parser: what to do with a prompt past the model's window (the gateway's `threads.truncation` when unset). */
  truncation?: Truncation;
  /** parse: the validated request and its catalog entry. */
  request?: ChatRequest;
  /** parse: the catalog entry the model routes to (set by auth when only the agent's aliases know the name). */
  model?: CatalogEntry & { provider: Provider };
  /** parse: the model name the client sent, before aliases; auth routes it again through the agent's. */
  modelName?: string;
  /** The client's session (Claude Code's X-Claude-Code-Session-Id), recorded on the ledger line. */
  sessionId?: string;
  /** auth: the key and agent behind the `a2a_` key. */
  auth?: { key: KeyRecord; agent: AgentRecord; accountId: string };
  /** rate: the windows charged, kept to add the real token count later. */
  rate?: { windows: RateWindow[]; estimatedTokens: number };
  /** thread: the thread (null until first saved), the full prompt and its token estimate, and the lease token. */
  thread?: { id: string | null; record: ThreadRecord | null; messages: ChatMessage[]; promptTokens: number; newMessages: ChatMessage[]; leaseToken: string };
  /** balance: the reservation made before dispatch. */
  reservation?: {
    id: string;
    amountMicros: number;
    /** The output limit the hold covers; dispatch sends the same. */
    outputCap?: number;
  };
  /** dispatch: the fallback model that answered, when not the one asked for (settle charges it). */
  answeredBy?: CatalogEntry & { provider: Provider };
  /** thread, balance: renews the lease and the hold while the request runs; stopped at settle. */
  heartbeat?: Heartbeat;
  /** telemetry: the request's span and record, when the gateway observes requests. */
  observation?: Observation;
  /** Headers of the answer set by the steps (rate-limit state, `x-thread-id`, `request-id`): see `setAnswerHeader`. */
  headers?: Record<string, string>;
  /** admin routes: who the admin token says is calling. */
  admin?: AdminIdentity;
  /** Registered by steps that acquired something; run once, last first. */
  settlers: Settler[];
  settled: boolean;
}

declare module "h3" {
  interface H3EventContext {
    gateway?: GatewayContext;
  }
}

/** The gateway's part of the event context, created on first use. */
export function useGatewayContext(event: H3Event): GatewayContext {
  return (event.context.gateway ??= { settlers: [], settled: false });
}

/** Reads what an earlier step must have put on the context, or fails loudly naming it. */
export function requireContext<K extends keyof GatewayContext>(event: H3Event, key: K, step: string): NonNullable<GatewayContext[K]> {
  const value = useGatewayContext(event)[key];
  if (value == null) {
    throw createAPIError({ code: "server_error", message: `agentgate chain misconfigured: the \`${step}\` step must run before this one` });
  }
  return value as NonNullable<GatewayContext[K]>;
}
