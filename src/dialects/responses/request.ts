import { z } from "zod";

// Built once at module load. Objects are loose: clients send fields the spec does not
// list (Codex's `client_metadata`, agentgate's own `thread_id`), and they pass unread.

const detail = z.enum(["auto", "low", "high"]).nullish();
const inputText = z.looseObject({ type: z.literal("input_text"), text: z.string() });
const inputImage = z.looseObject({ type: z.literal("input_image"), image_url: z.string().min(1).nullish(), file_id: z.string().nullish(), detail });
const inputFile = z.looseObject({ type: z.literal("input_file") });
// Assistant history a client replays (the AI SDK sends its earlier answers this way).
const outputText = z.looseObject({ type: z.literal("output_text"), text: z.string() });
const refusal = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });
const contentPart = z.discriminatedUnion("type", [inputText, inputImage, inputFile, outputText, refusal]);

const message = z.looseObject({
  type: z.literal("message"),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(contentPart)]),
  // Clients put their own ids and statuses on replayed items: accepted, not kept.
  id: z.string().nullish(),
  status: z.string().nullish(),
});
const functionCall = z.looseObject({ type: z.literal("function_call"), call_id: z.string().min(1), name: z.string().min(1), arguments: z.string(), id: z.string().nullish() });
const functionCallOutput = z.looseObject({
  type: z.literal("function_call_output"),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(contentPart)]),
  id: z.string().nullish(),
});
const reasoning = z.looseObject({ type: z.literal("reasoning") });
const itemReference = z.looseObject({ type: z.literal("item_reference"), id: z.string().min(1).max(200) });

/** One input item; an easy message (`{role, content}` without `type`) is read as a `message`. */
export const inputItemSchema = z.preprocess(
  (item) => (isRecord(item) && item.type === undefined && "role" in item ? { ...item, type: "message" } : item),
  z.discriminatedUnion("type", [message, functionCall, functionCallOutput, reasoning, itemReference]),
);

const functionTool = z.looseObject({
  type: z.literal("function"),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
/** Any tool: function tools are served, the others (built-in tools) refused or dropped by the parser. */
const tool = z.looseObject({ type: z.string().min(1) });

const toolChoice = z.union([z.enum(["none", "auto", "required"]), z.looseObject({ type: z.string() })]);

const textFormat = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({ type: z.literal("json_schema"), name: z.string().min(1), schema: z.record(z.string(), z.unknown()), description: z.string().nullish(), strict: z.boolean().nullish() }),
]);

const responsesRequestObject = z.looseObject({
  model: z.string().min(1),
  // Items are checked one by one after this (`inputItemsSchema`), so an error names `input[3].type`, not `input`.
  input: z.union([z.string(), z.array(z.unknown()).min(1)]),
  instructions: z.string().nullish(),
  previous_response_id: z.string().min(1).max(200).nullish(),
  store: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  tools: z.array(tool).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  text: z.looseObject({ format: textFormat.nullish(), verbosity: z.string().nullish() }).nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  metadata: z.record(z.string(), z.string().max(512)).nullish(),
  reasoning: z.looseObject({ effort: z.string().nullish(), summary: z.string().nullish() }).nullish(),
  truncation: z.enum(["auto", "disabled"]).nullish(),
  background: z.boolean().nullish(),
  conversation: z.unknown().optional(),
  thread_id: z.string().min(1).max(200).nullish(),
  user: z.string().nullish(),
});

/** `POST /v1/responses`: OpenAI's `CreateResponse` as clients really send it; `model` and `input` required. */
export const responsesRequestSchema = responsesRequestObject;

/** The input items of a request, each checked against the item kinds agentgate serves. */
export const inputItemsSchema = z.object({ input: z.array(inputItemSchema) });

export type ResponsesRequest = z.infer<typeof responsesRequestObject> & { input: string | InputItem[] };
export type InputItem = z.infer<typeof inputItemSchema>;
export type ContentPart = z.infer<typeof contentPart>;
export type FunctionTool = z.infer<typeof functionTool>;
export { functionTool as functionToolSchema };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
