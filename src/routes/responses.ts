import { getQuery, getRouterParam, type H3, type H3Event } from "h3";
import { apiKeyAuth } from "../chain/auth";
import { useGatewayContext } from "../context";
import { responsesDialect } from "../dialects/responses";
import { responsesParser, type ResponsesParserOptions } from "../dialects/responses/parse";
import { ownLiveResponse, responsesState } from "../dialects/responses/state";
import { clip, createAPIError } from "../errors";
import type { GatewayRuntime } from "../runtime";
import type { ResponseRecord } from "../stores/response-records";
import { registerAnswerRoute } from "./answer-chain";

/**
 * OpenAI's Responses API on every model: `POST {base}/v1/responses` is the chain in the
 * Responses dialect; `GET`/`DELETE {base}/v1/responses/{id}` and `GET …/{id}/input_items`
 * read the key's own agent's stored responses (any other is 404, like an unknown id).
 */
export function registerResponses(app: H3, base: string, runtime: GatewayRuntime, options: ResponsesParserOptions): void {
  registerAnswerRoute(app, `${base}/v1/responses`, runtime, responsesDialect, responsesParser(runtime, options), { afterAuth: [responsesState(runtime)] });
  const auth = { middleware: [apiKeyAuth(runtime)] };

  app.get(`${base}/v1/responses/:id`, async (event) => (await ownResponse(event, runtime)).response, auth);
  app.delete(
    `${base}/v1/responses/:id`,
    async (event) => {
      const record = await ownResponse(event, runtime);
      // Only the response goes: its thread, which other responses may continue, stays whole.
      await runtime.records.deleteResponse(record);
      return { id: record.id, object: "response", deleted: true };
    },
    auth,
  );
  app.get(
    `${base}/v1/responses/:id/input_items`,
    async (event) => {
      const record = await ownResponse(event, runtime);
      return inputItemsPage(record, getQuery(event));
    },
    auth,
  );
}

// --- internal ---

async function ownResponse(event: H3Event, runtime: GatewayRuntime): Promise<ResponseRecord> {
  const { agent } = useGatewayContext(event).auth!;
  const id = decodeURIComponent(getRouterParam(event, "id") ?? "");
  const record = ownLiveResponse(await runtime.records.getResponse(id), agent, runtime.threads.ttlSeconds);
  if (!record) throw createAPIError({ code: "response_not_found", param: null, message: `Response with id '${clip(id)}' not found.` });
  event.res.headers.set("x-thread-id", record.thread_id);
  return record;
}

/** One page of a response's input items as OpenAI pages them: newest first by default, `after` an item id, `limit` 1–100 (20). */
function inputItemsPage(record: ResponseRecord, query: Record<string, unknown>) {
  const limit = query.limit === undefined ? 20 : Number(query.limit);
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= 100)) throw createAPIError({ code: "invalid_request", param: "limit", message: "`limit` must be a whole number from 1 to 100." });
  const order = query.order ?? "desc";
  if (order !== "asc" && order !== "desc") throw createAPIError({ code: "invalid_request", param: "order", message: "`order` must be `asc` or `desc`." });
  const items = order === "desc" ? [...record.input_items].reverse() : record.input_items;
  const after = typeof query.after === "string" ? query.after : undefined;
  // An `after` that names no item of this response ends the list.
  const start = after === undefined ? 0 : items.findIndex((item) => item.id === after) + 1 || items.length;
  const data = items.slice(start, start + limit);
  return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + limit < items.length };
}
