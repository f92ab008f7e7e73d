/**
 * OpenAI's chat-completions wire, as much of it as the mapping reads or writes (WIRE.md §1),
 * written out here so agentgate's public types never import the `openai` SDK (which an app
 * that does not use it has not installed). The SDK's own types are assignable to these.
 */

export type OpenAIFinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

/** Logprobs pass through untouched. */
export type OpenAILogprobs = { content: unknown[] | null; refusal?: unknown[] | null } | null;

/** A function call; OpenAI's other kinds (`custom`) carry no `function` and are skipped. */
export interface OpenAIToolCall {
  id: string;
  type: "function" | (string & {});
  function?: { name: string; arguments: string };
}

export interface OpenAICompletion {
  id: string;
  object?: string;
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role?: string; content: string | null; refusal?: string | null; tool_calls?: OpenAIToolCall[] };
    finish_reason: OpenAIFinishReason;
    logprobs?: OpenAILogprobs;
  }>;
  usage?: OpenAIUsage;
}

export interface OpenAIChunk {
  id: string;
  object?: string;
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: {
      content?: string | null;
      refusal?: string | null;
      tool_calls?: Array<{ index: number; id?: string; type?: "function"; function?: { name?: string; arguments?: string } }>;
    };
    finish_reason: OpenAIFinishReason | null;
    logprobs?: OpenAILogprobs;
  }>;
  usage?: OpenAIUsage | null;
}

/** A content part of a user message, sent as the client gave it (OpenAI validates its own). */
export type OpenAIContentPart = { type: string } & Record<string, unknown>;

export type OpenAIMessageParam =
  | { role: "system" | "developer"; content: string | Array<{ type: "text"; text: string }> }
  | { role: "user"; content: string | OpenAIContentPart[] }
  | { role: "assistant"; content: string | Array<{ type: "text"; text: string }> | null; tool_calls?: OpenAIToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string | Array<{ type: "text"; text: string }> };

/** The request body (without `stream`): the modelled fields, and whatever else the client sent, passed through. */
export interface OpenAIChatParams {
  model: string;
  messages: OpenAIMessageParam[];
  max_completion_tokens?: number | null;
  tools?: Array<{ type: "function"; function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null } }>;
  tool_choice?: "none" | "auto" | "required" | { type: "function"; function: { name: string } };
  parallel_tool_calls?: boolean;
  response_format?: unknown;
  [field: string]: unknown;
}
