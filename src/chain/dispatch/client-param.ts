import type { HTTPError } from "h3";
import { createAPIError, type APIErrorBody, type ErrorCode } from "../../errors";

const PROMPT_FIELD = /^messages\[(\d+)\](.*)$/;

/**
 * A provider refuses a field of the prompt it was sent (`messages[3].content[1]`), and
 * that prompt starts with the agent's instructions and the thread's history (older turns
 * perhaps cut to fit the window): `ownIndex` says which message of the client's request a
 * prompt message is (-1: not one). The error is re-addressed to the request the client
 * sent: on chat completions, its own message's index; on the other APIs, whose items are
 * not one chat message each, the conversation field (`field`); and no field for a message
 * the client did not send this time. Any other error is returned as it is.
 */
export function toClientParam(error: HTTPError, ownIndex: (promptIndex: number) => number, field: string, exact: boolean): HTTPError {
  const data = error.data as Partial<APIErrorBody> | undefined;
  const match = typeof data?.param === "string" ? PROMPT_FIELD.exec(data.param) : null;
  if (!data || !match || error.status !== 400) return error;
  const own = ownIndex(Number(match[1]));
  const param = own < 0 ? null : exact ? `messages[${own}]${match[2]}` : field;
  if (param === data.param) return error;
  const named = param === null ? "a message of the thread's history" : `\`${param}\``;
  const message = String(data.message).replace(`\`${data.param}\``, named);
  return createAPIError({ code: data.code as ErrorCode, param, message, headers: error.headers });
}
