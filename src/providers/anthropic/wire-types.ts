/**
 * Anthropic's Messages wire, as much of it as the mapping reads or writes (WIRE.md §3),
 * written out here so agentgate's public types never import `@anthropic-ai/sdk` (which an
 * app that does not use it has not installed).
 */

export type AnthropicStopReason = "end_turn" | "stop_sequence" | "pause_turn" | "max_tokens" | "model_context_window_exceeded" | "tool_use" | "refusal";

export interface AnthropicTextBlockParam {
  type: "text";
  text: string;
}

export interface AnthropicImageBlockParam {
  type: "image";
  source: { type: "base64"; media_type: "image/jpeg" | "image/png" | "image/gif" | "image/webp"; data: string } | { type: "url"; url: string };
}

export interface AnthropicToolUseBlockParam {
  type: "tool_use";
  id: string;
  name: string;
  input: unknown;
}

export interface AnthropicToolResultBlockParam {
  type: "tool_result";
  tool_use_id: string;
  content: string;
}

export type AnthropicContentBlockParam = AnthropicTextBlockParam | AnthropicImageBlockParam | AnthropicToolUseBlockParam | AnthropicToolResultBlockParam;

export interface AnthropicMessageParam {
  /** `system` turns after the first exchange, as the API takes them mid-conversation. */
  role: "user" | "assistant" | "system";
  content: string | AnthropicContentBlockParam[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: { type: "object"; [field: string]: unknown };
  strict?: boolean;
}

export type AnthropicToolChoice =
  | { type: "none" }
  | { type: "auto" | "any"; disable_parallel_tool_use?: boolean }
  | { type: "tool"; name: string; disable_parallel_tool_use?: boolean };

/** The request body (without `stream`). */
export interface AnthropicParams {
  model: string;
  max_tokens: number;
  messages: AnthropicMessageParam[];
  system?: string;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  output_config?: { format: { type: "json_schema"; schema: Record<string, unknown> } };
  metadata?: { user_id?: string };
}

export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

export interface AnthropicMessage {
  id: string;
  model: string;
  content: Array<{ type: string; text?: string; id?: string; name?: string; input?: unknown }>;
  stop_reason: AnthropicStopReason | null;
  usage: AnthropicUsage;
}

export type AnthropicStreamEvent =
  | { type: "message_start"; message: AnthropicMessage }
  // Blocks and deltas of other kinds (thinking, citations, server tools) are read by `type` only, and skipped.
  | { type: "content_block_start"; index: number; content_block: { type: string; id?: string; name?: string } }
  | { type: "content_block_delta"; index: number; delta: { type: string; text?: string; partial_json?: string } }
  | { type: "content_block_stop"; index: number }
  | { type: "message_delta"; delta: { stop_reason: AnthropicStopReason | null }; usage: AnthropicUsage | null }
  | { type: "message_stop" };
