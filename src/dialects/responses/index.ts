import type { Dialect } from "../types";
import { newResponseId } from "./ids";
import { outputItems, responseObject, statusOf } from "./output";
import { responsesStreamEncoder } from "./stream";

/**
 * OpenAI's Responses API over the normalized chat answer: a `response` object with
 * `message` and `function_call` output items, or its event stream. Errors keep OpenAI's
 * envelope, as the Responses API itself answers them.
 */
export const responsesDialect: Dialect = {
  newId: newResponseId,
  answer(completion, meta) {
    const choice = completion.choices[0];
    const status = statusOf(choice?.finish_reason ?? "stop");
    const output = choice ? outputItems(meta.id, choice.message, status) : [];
    return responseObject(meta, { status, output, usage: completion.usage, finishReason: choice?.finish_reason });
  },
  stream: responsesStreamEncoder,
  inputParam: "input",
};
