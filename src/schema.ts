import { z } from "zod";

// Schemas are built once at module load: no per-request compilation.
// Objects are loose, as OpenAI's own schema is: unknown fields pass through untouched.

const textPart = z.looseObject({ type: z.literal("text"), text: z.string() });
const imagePart = z.looseObject({
  type: z.literal("image_url"),
  image_url: z.looseObject({ url: z.string().min(1), detail: z.enum(["auto", "low", "high"]).optional() }),
});
const otherPart = z.looseObject({ type: z.string() });
const userContent = z.union([z.string(), z.array(z.union([textPart, imagePart, otherPart])).min(1)]);
const textContent = z.union([z.string(), z.array(z.union([textPart, otherPart]))]);

const toolCall = z.looseObject({
  id: z.string().min(1),
  type: z.literal("function"),
  function: z.looseObject({ name: z.string().min(1), arguments: z.string() }),
});

const systemMessage = z.looseObject({ role: z.literal(["system", "developer"]), content: textContent, name: z.string().optional() });
const userMessage = z.looseObject({ role: z.literal("user"), content: userContent, name: z.string().optional() });
const assistantMessage = z.looseObject({
  role: z.literal("assistant"),
  content: textContent.nullish(),
  refusal: z.string().nullish(),
  tool_calls: z.array(toolCall).optional(),
  name: z.string().optional(),
});
const toolMessage = z.looseObject({ role: z.literal("tool"), content: textContent, tool_call_id: z.string().min(1) });

/** One OpenAI chat message, as a client sends it and as a thread stores it. */
export const chatMessageSchema = z.discriminatedUnion("role", [systemMessage, userMessage, assistantMessage, toolMessage]);

const tool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) }),
]);

const responseFormat = z.union([
  z.looseObject({ type: z.literal(["text", "json_object"]) }),
  z.looseObject({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({ name: z.string(), description: z.string().optional(), schema: z.record(z.string(), z.unknown()).optional(), strict: z.boolean().nullish() }),
  }),
]);

const chatRequestObject = z.object({
  model: z.string().min(1),
  messages: z.array(chatMessageSchema).min(1),
  thread_id: z.string().min(1).max(200).optional(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  n: z.number().int().min(1).max(1).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormat.optional(),
  user: z.string().optional(),
});

/**
 * `POST /v1/chat/completions`: OpenAI's request plus our `thread_id`; unknown fields pass
 * through. A `null` optional field means "not given", as OpenAI reads it (the Python SDK
 * sends `None` as `null`), so nulls are dropped before validation and no step sees them.
 */
export const chatRequestSchema = z.preprocess(dropNulls, chatRequestObject.loose());

/** Drops null top-level fields and null `name` / `tool_calls` of messages, in place (the body is ours). */
function dropNulls(body: unknown): unknown {
  if (!isRecord(body)) return body;
  for (const field of Object.keys(body)) if (body[field] === null) delete body[field];
  if (Array.isArray(body.messages)) {
    for (const message of body.messages) {
      if (!isRecord(message)) continue;
      if (message.name === null) delete message.name;
      if (message.tool_calls === null) delete message.tool_calls;
    }
  }
  return body;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export type ChatMessage = z.infer<typeof chatMessageSchema>;
/** The validated request. Fields we do not model (`seed`, `logit_bias`...) are still there at run time. */
export type ChatRequest = z.infer<typeof chatRequestObject>;
export type ChatTool = z.infer<typeof tool>;
export type ToolCall = z.infer<typeof toolCall>;

/**
 * Token counts as OpenAI reports them. `prompt_tokens` counts every input token, those
 * read from and written to a vendor's prompt cache included; `cached_tokens` are the ones
 * read from it, `cache_write_tokens` (ours: Anthropic's `cache_creation_input_tokens`) the
 * ones written to it.
 */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/** The assistant's message in a `chat.completion`. */
export interface AssistantMessage {
  role: "assistant";
  content: string | null;
  refusal: string | null;
  tool_calls?: ToolCall[];
}

/** OpenAI's per-token log probabilities, passed through as the vendor sent them. */
export interface ChoiceLogprobs {
  content: unknown[] | null;
  refusal?: unknown[] | null;
}

/** `chat.completion`, as providers return it (the gateway sets `id`, `created`, `model`). */
export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{ index: number; message: AssistantMessage; finish_reason: FinishReason; logprobs: ChoiceLogprobs | null }>;
  usage?: Usage;
}

/** A tool-call fragment in a stream delta; only `index` is always there. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

/** `chat.completion.chunk`, one SSE event of a stream. */
export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: { role?: "assistant"; content?: string | null; refusal?: string | null; tool_calls?: ToolCallDelta[] };
    finish_reason: FinishReason | null;
    logprobs?: ChoiceLogprobs | null;
  }>;
  usage?: Usage | null;
}

// --- admin bodies ---

const limitsSchema = z.strictObject({
  requests_per_minute: z.number().int().positive().nullish(),
  tokens_per_minute: z.number().int().positive().nullish(),
});

/** An agent's model aliases: name or `*` pattern -> catalog model (checked against the catalog by the admin operations). */
const aliasesSchema = z.record(z.string().trim().min(1).max(200), z.string().min(1).max(200)).refine((aliases) => Object.keys(aliases).length <= 200, "at most 200 aliases");
/** A budget: at most `limit_micros` per UTC day, ISO week, month, or in total. */
const budgetSchema = z.strictObject({
  limit_micros: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  period: z.enum(["day", "week", "month", "total"]),
});

/** Fallbacks: for a model name, up to 5 models to try in order. */
const fallbacksSchema = z.record(z.string().min(1).max(200), z.array(z.string().min(1).max(200)).max(5));

export const createAgentSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  instructions: z.string().max(100_000).optional(),
  models: z.array(z.string().min(1)).optional(),
  limits: limitsSchema.optional(),
  aliases: aliasesSchema.optional(),
  budget: budgetSchema.nullish(),
  fallbacks: fallbacksSchema.nullish(),
  truncation: z.enum(["auto", "disabled"]).optional(),
  drop_unsupported_tools: z.boolean().optional(),
});

export const updateAgentSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  instructions: z.string().max(100_000).nullable().optional(),
  models: z.array(z.string().min(1)).nullable().optional(),
  limits: limitsSchema.nullable().optional(),
  aliases: aliasesSchema.nullable().optional(),
  budget: budgetSchema.nullable().optional(),
  fallbacks: fallbacksSchema.nullable().optional(),
  truncation: z.enum(["auto", "disabled"]).nullable().optional(),
  drop_unsupported_tools: z.boolean().nullable().optional(),
});

export const createKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  expires_at: z.iso.datetime({ offset: true }).nullish(),
  budget: budgetSchema.nullish(),
});

/** `PATCH .../keys/{id}`: only its name and budget change (its secret and expiry never do). */
export const updateKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  budget: budgetSchema.nullable().optional(),
});

export const creditSchema = z.strictObject({
  amount_micros: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});

export type AgentLimits = z.infer<typeof limitsSchema>;
export type CreateAgentInput = z.infer<typeof createAgentSchema>;
export type UpdateAgentInput = z.infer<typeof updateAgentSchema>;
export type CreateKeyInput = z.infer<typeof createKeySchema>;
export type UpdateKeyInput = z.infer<typeof updateKeySchema>;
