import { createId } from "../../ids";
import type { Dialect } from "../types";
import { toMessagesAnswer, toolUseId } from "./answer";
import { renderMessagesError } from "./errors";
import { messagesStreamEncoder } from "./stream";

/** Anthropic's Messages API: `msg_…` answers, its event sequence and its error envelope. */
export const messagesDialect: Dialect = {
  newId: () => createId("msg_", 24),
  answer: toMessagesAnswer,
  stream: messagesStreamEncoder,
  toolCallId: toolUseId,
  renderError: renderMessagesError,
};
