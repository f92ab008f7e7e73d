import type { Middleware } from "h3";
import { readJSONBody, resolveRequestModel, sessionIdHeader, threadIdHeader } from "../../chain/parse";
import { useGatewayContext } from "../../context";
import { createAPIError } from "../../errors";
import type { GatewayRuntime } from "../../runtime";
import type { ChatRequest, ChatTool } from "../../schema";
import { parseOrThrow } from "../../validate";
import { attachCall, type ResponsesCall } from "./call";
import { functionToolSchema, inputItemsSchema, responsesRequestSchema, type ResponsesRequest } from "./request";

export interface ResponsesParserOptions {
  /**
   * Drop built-in tools (`web_search`, `file_search`, MCP...) a chat upstream cannot run,
   * instead of answering 400 `unsupported_parameter`.
   */
  dropUnsupportedTools: boolean;
}

/** Vendors whose request mapping refuses fields it does not know: `reasoning_effort` is not sent to them. */
const NO_REASONING_EFFORT = new Set(["anthropic", "gemini"]);

/**
 * The Responses API's first step: reads and validates the body (400 naming the field),
 * refuses what a chat upstream cannot do (built-in tools, `background`, `conversation`:
 * 400 `unsupported_parameter`), resolves the model and builds the normalized chat request.
 * Its messages are filled by the state step, which can read the agent's stored responses.
 */
export function responsesParser(runtime: GatewayRuntime, options: ResponsesParserOptions): Middleware {
  return async function responsesParser(event) {
    const ctx = useGatewayContext(event);
    const parsed = parseOrThrow(responsesRequestSchema, await readJSONBody(event, runtime.maxBodyBytes));
    const body = { ...parsed, input: typeof parsed.input === "string" ? parsed.input : parseOrThrow(inputItemsSchema, { input: parsed.input }).input } as ResponsesRequest;
    if (body.background) throw unsupported("background", "Background responses are not supported: send the request without `background` (or stream it).");
    if (body.conversation != null) throw unsupported("conversation", "The Conversations API is not supported: continue with `previous_response_id` instead.");
    // A name only the agent's aliases know is routed by the auth step (404 there otherwise).
    resolveRequestModel(runtime, ctx, body.model);
    const model = ctx.model;
    const { tools, refused: refusedTool } = functionTools(body);
    // A built-in tool's choice leaves the model free once built-in tools are dropped; refused like them otherwise.
    const choice = body.tool_choice;
    const builtInChoice = typeof choice === "object" && choice !== null && choice.type !== "function" && choice.type !== "allowed_tools";
    const refused = refusedTool ?? (builtInChoice ? { param: "tool_choice", type: (choice as { type: string }).type } : null);
    const store = body.store !== false;

    const request: ChatRequest = {
      model: body.model,
      messages: [],
      ...(body.stream && { stream: true }),
      ...(body.max_output_tokens != null && { max_completion_tokens: body.max_output_tokens }),
      ...(body.temperature != null && { temperature: body.temperature }),
      ...(body.top_p != null && { top_p: body.top_p }),
      ...(tools.length && { tools: tools.map(toChatTool) }),
      ...(tools.length && body.tool_choice != null && { tool_choice: toChatToolChoice(body.tool_choice, builtInChoice) }),
      ...(tools.length && body.parallel_tool_calls != null && { parallel_tool_calls: body.parallel_tool_calls }),
      ...responseFormat(body),
    };
    if (body.reasoning?.effort && model && !NO_REASONING_EFFORT.has(model.providerId)) (request as Record<string, unknown>).reasoning_effort = body.reasoning.effort;
    const threadId = body.thread_id ?? threadIdHeader(event);
    if (threadId) request.thread_id = threadId;

    const call: ResponsesCall = { body, tools, store, inputItems: [], refusedTool: refused, dropUnsupportedTools: options.dropUnsupportedTools };
    attachCall(request, call);
    ctx.request = request;
    ctx.stateless = !store;
    ctx.truncation = body.truncation ?? "disabled";
    ctx.sessionId = sessionIdHeader(event);
    if (body.instructions) ctx.instructions = body.instructions;
  };
}

// --- internal ---

/**
 * The function tools, each with every key the response echoes. Built-in tools are left
 * out, and the first is named in `refused`: the state step refuses it unless the gateway
 * or the agent drops them (only known after auth).
 */
function functionTools(body: ResponsesRequest): { tools: ResponsesCall["tools"]; refused: ResponsesCall["refusedTool"] } {
  const tools: ResponsesCall["tools"] = [];
  let refused: ResponsesCall["refusedTool"] = null;
  for (const [index, tool] of (body.tools ?? []).entries()) {
    if (tool.type !== "function") {
      refused ??= { param: `tools[${index}].type`, type: tool.type };
      continue;
    }
    const fn = parseOrThrow(functionToolSchema, tool);
    tools.push({ type: "function", name: fn.name, description: fn.description ?? null, parameters: fn.parameters ?? null, strict: fn.strict ?? false });
  }
  return { tools, refused };
}

function toChatTool(tool: ResponsesCall["tools"][number]): ChatTool {
  return {
    type: "function",
    function: {
      name: tool.name,
      ...(tool.description != null && { description: tool.description }),
      // The AI SDK puts a `$schema` key in; no vendor needs it and some refuse it.
      ...(tool.parameters && { parameters: withoutSchemaKey(tool.parameters) }),
      ...(tool.strict && { strict: true }),
    },
  };
}

function withoutSchemaKey(parameters: Record<string, unknown>): Record<string, unknown> {
  if (!("$schema" in parameters)) return parameters;
  const { $schema: _schema, ...rest } = parameters;
  return rest;
}

function toChatToolChoice(choice: NonNullable<ResponsesRequest["tool_choice"]>, builtIn: boolean): NonNullable<ChatRequest["tool_choice"]> {
  if (typeof choice === "string") return choice;
  if (builtIn) return "auto";
  if (choice.type === "function" && typeof choice.name === "string") return { type: "function", function: { name: choice.name } };
  throw unsupported("tool_choice", `A \`tool_choice\` of type \`${choice.type}\` is not supported: send "none", "auto", "required" or {"type":"function","name":…}.`);
}

/** `text.format` → chat's `response_format` (Responses puts `name` and `schema` beside `type`; chat nests them). */
function responseFormat(body: ResponsesRequest): Pick<ChatRequest, "response_format"> {
  const format = body.text?.format;
  if (!format || format.type === "text") return {};
  if (format.type === "json_object") return { response_format: { type: "json_object" } };
  return {
    response_format: {
      type: "json_schema",
      json_schema: { name: format.name, schema: format.schema, ...(format.description != null && { description: format.description }), ...(format.strict != null && { strict: format.strict }) },
    },
  };
}

function unsupported(param: string, message: string) {
  return createAPIError({ code: "unsupported_parameter", param, message });
}
