/**
 * Gemini's `generateContent` wire, as much of it as the mapping reads or writes (WIRE.md §4),
 * written out here so agentgate's public types never import `@google/genai` (which an app
 * that does not use it has not installed). Field names are @google/genai's.
 */

export type GeminiFinishReason =
  | "FINISH_REASON_UNSPECIFIED"
  | "STOP"
  | "MAX_TOKENS"
  | "SAFETY"
  | "RECITATION"
  | "LANGUAGE"
  | "OTHER"
  | "BLOCKLIST"
  | "PROHIBITED_CONTENT"
  | "SPII"
  | "MALFORMED_FUNCTION_CALL"
  | "UNEXPECTED_TOOL_CALL"
  | "IMAGE_SAFETY"
  | "IMAGE_PROHIBITED_CONTENT"
  | "IMAGE_RECITATION"
  | "IMAGE_OTHER"
  | "NO_IMAGE";

export interface GeminiPart {
  text?: string;
  /** A thought summary (reasoning), not the answer. */
  thought?: boolean;
  thoughtSignature?: string;
  inlineData?: { mimeType?: string; data?: string };
  fileData?: { fileUri?: string; mimeType?: string };
  functionCall?: { name?: string; args?: Record<string, unknown> };
  functionResponse?: { name?: string; response?: Record<string, unknown> };
}

export interface GeminiContent {
  role?: string;
  parts?: GeminiPart[];
}

export interface GeminiToolConfig {
  functionCallingConfig?: { mode?: "AUTO" | "ANY" | "NONE" | "VALIDATED" | "MODE_UNSPECIFIED"; allowedFunctionNames?: string[] };
}

export interface GeminiConfig {
  systemInstruction?: string | GeminiContent;
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  stopSequences?: string[];
  tools?: Array<{ functionDeclarations?: Array<{ name?: string; description?: string; parametersJsonSchema?: unknown }> }>;
  toolConfig?: GeminiToolConfig;
  responseMimeType?: string;
  responseJsonSchema?: unknown;
  /** Gemini 2.5+: how many tokens it may think before answering. */
  thinkingConfig?: { thinkingBudget?: number; includeThoughts?: boolean };
}

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  toolUsePromptTokenCount?: number;
  thoughtsTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
}

/** The fields of a Gemini response the mappers read (plain JSON works, as in tests). */
export interface GeminiResponse {
  candidates?: Array<{ content?: GeminiContent; finishReason?: GeminiFinishReason | (string & {}) }>;
  usageMetadata?: GeminiUsageMetadata;
  promptFeedback?: { blockReason?: string };
  modelVersion?: string;
  responseId?: string;
}
