import type { ChatRequest } from "../../schema";
import type { StoredItem } from "./items";
import type { ResponsesRequest } from "./request";

/**
 * What a Responses request said beyond the normalized chat request: the fields its
 * response object echoes, its input as items and whether it is stored. Kept beside the
 * request object (never on it: providers get every field of the chat request).
 */
export interface ResponsesCall {
  body: ResponsesRequest;
  /** Function tools as the response echoes them (every key the spec requires). */
  tools: Array<{ type: "function"; name: string; description: string | null; parameters: Record<string, unknown> | null; strict: boolean }>;
  store: boolean;
  /** The request's input as stored items (references resolved), once the state step ran. */
  inputItems: StoredItem[];
  /** The first built-in tool the request sent (left out of `tools`): refused unless the gateway or agent drops them. */
  refusedTool: { param: string; type: string } | null;
  /** The gateway's `responses.dropUnsupportedTools`. */
  dropUnsupportedTools: boolean;
}

const calls = new WeakMap<ChatRequest, ResponsesCall>();

/** Attaches a call to its normalized request (the parser). */
export function attachCall(request: ChatRequest, call: ResponsesCall): void {
  calls.set(request, call);
}

/** The call behind a normalized request; a Responses route always has one. */
export function callOf(request: ChatRequest): ResponsesCall {
  const call = calls.get(request);
  if (!call) throw new Error("[agentgate] a Responses answer without its request: the responses parser must run first");
  return call;
}
