// Gateway
export { createGateway } from "./gateway";
export type { Gateway, GatewayOptions } from "./gateway";

// Telemetry (OpenTelemetry through the host's `@opentelemetry/api`) and the request record
export type { RequestHook, RequestRecord, TelemetryOptions } from "./telemetry/options";
export type { GatewayRuntime, Logger, RateLimits } from "./runtime";

// Chain steps (each with its guard), for hosts that compose their own chain
export { answerHeader, setAnswerHeader } from "./chain/answer-headers";
export { apiKeyAuth, requireApiKey } from "./chain/auth";
export { balanceGuard, requireReservation } from "./chain/balance";
export { providerDispatch, toProviderRequest } from "./chain/dispatch";
export { requestParser, requireChatRequest, readJSONBody } from "./chain/parse";
export { formatResetDuration, rateLimit, requireRateAdmission } from "./chain/rate-limit";
export { settle, settlement } from "./chain/settle";
export { appendToThread, requireThread, threadResolver } from "./chain/thread";
export { requireContext, useGatewayContext } from "./context";
export type { GatewayContext, Outcome, Settler } from "./context";

// Providers
export { defineProvider, isChunkStream } from "./providers/_define";
export type { ModelInfo, Provider, ProviderContext, ProviderRequest, ProviderResult } from "./providers/_define";
export { upstreamError, upstreamTimeout } from "./providers/_errors";
export { createKeepAliveFetch } from "./providers/_fetch";
export type { KeepAliveFetchOptions } from "./providers/_fetch";
export type { UpstreamFailure } from "./providers/_errors";
export { echo } from "./providers/echo/index";
export type { EchoProviderOptions } from "./providers/echo/index";
// The vendor factories load their SDKs with import() on first use, so these exports load no SDK.
export { openai } from "./providers/openai";
export type { OpenAIProviderOptions } from "./providers/openai";
export { anthropic, ANTHROPIC_DEFAULT_MAX_TOKENS } from "./providers/anthropic";
export type { AnthropicProviderOptions } from "./providers/anthropic";
export { gemini } from "./providers/gemini";
export type { GeminiProviderOptions } from "./providers/gemini";

// Catalog and money
export { agentAllowsModel, costMicros, createCatalog, DEFAULT_MAX_OUTPUT_TOKENS, DEFAULT_MODELS, outputCap } from "./catalog";
export type { Catalog, CatalogEntry } from "./catalog";
export type { ModelAliases } from "./aliases";

// Stores
export { createRecords } from "./stores/records";
export type { AgentRecord, KeyRecord, Records, ThreadRecord } from "./stores/records";
export { createMemoryStorage, type MemoryStorageOptions } from "./stores/memory-storage";
export { createMemoryLedger, type MemoryLedgerOptions } from "./stores/ledger/memory";
export { createStorageLedger, importLedger, moveLegacyLedger } from "./stores/ledger/storage";
export { createRedisLedger, type RedisLedgerOptions } from "./stores/ledger/redis";
export { createSqlLedger, type SqlLedgerOptions } from "./stores/ledger/sql";
export type { LedgerEntry, LedgerPage, LedgerQuery, LedgerStore, SummaryDimension, SummaryQuery, SummaryRow } from "./stores/ledger/types";
export { createMemoryAtomics } from "./stores/memory-atomics";
export type { MemoryAtomicsOptions } from "./stores/memory-atomics";
export { createRedisAtomics } from "./stores/redis-atomics";
export type { RedisAtomicsOptions } from "./stores/redis-atomics";
export { boundedDriver } from "./stores/bounded-driver";
export type { BoundedDriverOptions } from "./stores/bounded-driver";
export { REDIS_CLIENT_OPTIONS } from "./stores/redis-connection";
export type { RedisInput } from "./stores/redis-connection";
export { gcra, rateWindowState } from "./stores/atomics";
export type { BudgetHold, BudgetState } from "./stores/atomics";
export type { Budget, BudgetPeriod, BudgetThresholdEvent } from "./chain/budgets";
export type { CooldownStore } from "./providers/_key-pool";
export type { BudgetView } from "./admin/budget-views";
export type { Atomics, BalanceState, GcraStep, RateDecision, RateState, RateWindow, RateWindowState, ReserveResult, SettleResult } from "./stores/atomics";

// Admin
export { createAdminOperations } from "./admin/operations";
export type { AdminOperations, ListOf, UsageQuery } from "./admin/operations";
export { createAdminVerifier, CREDIT_SCOPE, signAdminToken } from "./admin/token";
export type { AdminAuthOptions, AdminIdentity } from "./admin/token";
export type { AgentView, CreatedKeyView, KeyView, LedgerView, ThreadView } from "./admin/views";
export type { UsageGroup, UsageSummary, UsageSummaryQuery, UsageSummaryRow } from "./admin/usage-summary";

// Keys
export { digestKey, generateKey, isWellFormedKey, KEY_PREFIX } from "./keys";
export type { GeneratedKey } from "./keys";

// Errors
export { createAPIError, ERROR_CODES, renderError, toErrorBody } from "./errors";
export type { APIErrorBody, APIErrorInit, ErrorCode } from "./errors";

// OpenAI wire types and schemas
export { chatMessageSchema, chatRequestSchema } from "./schema";
export type { AssistantMessage, ChatCompletion, ChatCompletionChunk, ChatMessage, ChatRequest, FinishReason, ToolCall, ToolCallDelta, Usage } from "./schema";
