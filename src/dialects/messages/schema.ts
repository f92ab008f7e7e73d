import { z } from "zod";

// Anthropic's Messages request (WIRE.md §3.2), built once at module load. Objects are loose:
// fields the gateway does not read (`cache_control`, `context_management`, betas' own
// fields) pass through untouched, and the pass-through sends them on as they came.

const block = z.looseObject({ type: z.string().min(1) });
const content = z.union([z.string(), z.array(block)]);

const message = z.looseObject({
  // `system` turns mid-conversation are what Claude Code sends; Anthropic takes them.
  role: z.enum(["user", "assistant", "system"]),
  content,
});

const tool = z.looseObject({
  name: z.string().min(1),
  // Custom tools have no type or `custom`; any other type is one of Anthropic's server tools.
  type: z.string().optional(),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
});

const toolChoice = z.looseObject({
  type: z.enum(["auto", "any", "tool", "none"]),
  name: z.string().optional(),
  disable_parallel_tool_use: z.boolean().optional(),
});

const messagesFields = {
  model: z.string({ error: "Field required" }).min(1),
  messages: z.array(message, { error: "Field required" }).min(1, { error: "messages: at least one message is required" }),
  system: z.union([z.string(), z.array(block)]).optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  thinking: z.looseObject({ type: z.string(), budget_tokens: z.number().int().optional() }).optional(),
  output_config: z.looseObject({ effort: z.string().optional() }).optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
  stream: z.boolean().optional(),
};

/** `POST /v1/messages`: `max_tokens` is required, as Anthropic requires it. */
export const messagesRequestSchema = z.looseObject({ ...messagesFields, max_tokens: z.number({ error: "Field required" }).int().positive() });

/** `POST /v1/messages/count_tokens`: the same body without `max_tokens`. */
export const countTokensRequestSchema = z.looseObject({ ...messagesFields, max_tokens: z.number().int().positive().optional() });

export type MessagesRequest = z.infer<typeof countTokensRequestSchema>;
export type MessagesBlock = z.infer<typeof block> & Record<string, unknown>;
export type MessagesTool = z.infer<typeof tool>;
