import { createId } from "../../ids";
import type { Dialect } from "../types";
import { chatStreamEncoder } from "./stream";

/** OpenAI's chat completions, the gateway's own normalized form: answers go out as they are. */
export const chatDialect: Dialect = {
  newId: () => createId("chatcmpl-", 24),
  answer: (completion) => completion,
  stream: chatStreamEncoder,
};
