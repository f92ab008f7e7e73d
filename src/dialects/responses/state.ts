import { HTTPError, type H3Event, type Middleware } from "h3";
import { ownLiveThread } from "../../chain/thread";
import { requireContext, useGatewayContext } from "../../context";
import { clip, createAPIError } from "../../errors";
import { nowISO } from "../../ids";
import type { GatewayRuntime } from "../../runtime";
import type { ChatMessage } from "../../schema";
import type { AgentRecord } from "../../stores/records";
import type { ResponseRecord } from "../../stores/response-records";
import { callOf } from "./call";
import { itemId, responseOfItem } from "./ids";
import { toChatMessages, toStoredItem, type Pending, type StoredItem } from "./items";
import type { InputItem } from "./request";

/**
 * After auth, before the thread step: resolves what the request names among the agent's
 * own stored responses (in one round trip), `previous_response_id` becoming the thread to
 * continue and each `item_reference` the item it names, then turns the input into the
 * chat request's messages. Another agent's response is exactly an unknown one: 400
 * `previous_response_not_found`, as OpenAI answers. When stored, the response is saved at
 * settle time for `GET /v1/responses/{id}` and later continuations.
 */
export function responsesState(runtime: GatewayRuntime): Middleware {
  return async function responsesState(event, next) {
    await resolveResponsesInput(event, runtime);
    try {
      return await next();
    } catch (error) {
      // The previous response's thread is gone (deleted, expired): to the client, so is the response.
      const previousId = callOf(requireContext(event, "request", "responsesParser")).body.previous_response_id;
      throw previousId && isThreadNotFound(error) ? previousNotFound(previousId) : error;
    }
  };
}

/** The guard behind `responsesState`. */
export async function resolveResponsesInput(event: H3Event, runtime: GatewayRuntime): Promise<void> {
  const ctx = useGatewayContext(event);
  const { agent } = requireContext(event, "auth", "apiKeyAuth");
  const request = requireContext(event, "request", "responsesParser");
  const call = callOf(request);
  const { body } = call;

  if (call.refusedTool && !(agent.drop_unsupported_tools ?? call.dropUnsupportedTools)) {
    const { param, type } = call.refusedTool;
    throw createAPIError({
      code: "unsupported_parameter",
      param,
      message: `Built-in tools (\`${type}\`) are not supported: only \`function\` tools run on every model. Remove it, or drop built-in tools with the gateway's \`responses.dropUnsupportedTools\` or the agent's \`drop_unsupported_tools\`.`,
    });
  }
  const given: InputItem[] = typeof body.input === "string" ? [{ type: "message", role: "user", content: body.input }] : body.input;
  const converted = given.map((item, index) => toStoredItem(item, "", typeof body.input === "string" ? "input" : `input[${index}]`));
  const references = converted.filter((item): item is Exclude<Pending, null> => item !== null && "reference" in item);
  const wanted = new Set(references.map((ref) => responseOfItem(ref.reference)).filter((id): id is string => id !== null));
  const previousId = body.previous_response_id ?? undefined;
  if (previousId) wanted.add(previousId);

  // Every response the request names, read side by side: one round trip.
  const records = new Map<string, ResponseRecord>();
  await Promise.all(
    [...wanted].map(async (id) => {
      const record = ownLiveResponse(await runtime.records.getResponse(id), agent, runtime.threads.ttlSeconds);
      if (record) records.set(id, record);
    }),
  );

  const items: StoredItem[] = [];
  for (const item of converted) {
    if (item === null) continue;
    if ("reference" in item) items.push(findItem(records, item.reference, item.param));
    else items.push(item);
  }
  call.inputItems = items;
  let messages: ChatMessage[] = toChatMessages(items);

  if (previousId) {
    const previous = records.get(previousId);
    if (!previous) throw previousNotFound(previousId);
    if (request.thread_id && request.thread_id !== previous.thread_id) {
      throw createAPIError({ code: "invalid_request", param: "thread_id", message: "`thread_id` and `previous_response_id` name different threads; send one of them." });
    }
    request.thread_id = previous.thread_id;
  }
  if (!call.store && request.thread_id) {
    // `store: false` continues a history without writing to it: read here, and the thread step stays stateless.
    const thread = ownLiveThread(await runtime.records.getThread(request.thread_id), agent.id, runtime.threads.ttlSeconds);
    if (!thread) throw previousId ? previousNotFound(previousId) : createAPIError({ code: "thread_not_found", param: "thread_id", message: `No thread found with id '${clip(request.thread_id)}'.` });
    messages = [...thread.messages, ...messages];
    delete request.thread_id;
  }
  if (messages.length === 0) throw createAPIError({ code: "invalid_request", param: "input", message: "The input holds nothing to answer (only reasoning items)." });
  request.messages = messages;

  if (call.store) {
    ctx.settlers.push(async ({ answer, error }) => {
      const threadId = ctx.thread?.id;
      if (error || !threadId || !isResponse(answer)) return;
      const record: ResponseRecord = {
        id: answer.id,
        agent_id: agent.id,
        account_id: agent.account_id,
        thread_id: threadId,
        created_at: nowISO(),
        input_items: withIds(items, answer.id),
        response: answer,
      };
      await runtime.retries.attempt(`save response ${answer.id}`, () => runtime.records.putResponse(record));
    });
  }
}

/** The response if it is the agent's own and within the threads' time to live; otherwise null, as if missing. */
export function ownLiveResponse(record: ResponseRecord | null, agent: Pick<AgentRecord, "id">, ttlSeconds: number): ResponseRecord | null {
  if (!record || record.agent_id !== agent.id) return null;
  return Date.parse(record.created_at) + ttlSeconds * 1000 <= Date.now() ? null : record;
}

// --- internal ---

function findItem(records: Map<string, ResponseRecord>, id: string, param: string): StoredItem {
  const responseId = responseOfItem(id);
  const record = responseId ? records.get(responseId) : undefined;
  const found = record && [...record.input_items, ...record.response.output].find((item) => item.id === id);
  if (!found) throw createAPIError({ code: "item_not_found", param, message: `Item with id '${clip(id)}' not found.` });
  return found as unknown as StoredItem;
}

/** The request's own items get ids of this response (`msg_<r>_i0`...); referenced ones keep theirs. */
function withIds(items: StoredItem[], responseId: string): ResponseRecord["input_items"] {
  return items.map((item, index) => (item.id ? item : { ...item, id: itemId(responseId, item.type === "message" ? "msg" : item.type === "function_call" ? "fc" : "fco", "i", index) }));
}

function isResponse(answer: unknown): answer is ResponseRecord["response"] {
  return typeof answer === "object" && answer !== null && typeof (answer as { id?: unknown }).id === "string" && Array.isArray((answer as { output?: unknown }).output);
}

function isThreadNotFound(error: unknown): boolean {
  return HTTPError.isError(error) && (error.data as { code?: string } | undefined)?.code === "thread_not_found";
}

function previousNotFound(id: string) {
  return createAPIError({ code: "previous_response_not_found", param: "previous_response_id", message: `Previous response with id '${clip(id)}' not found.` });
}
