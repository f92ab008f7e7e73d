import Ajv2020 from "ajv/dist/2020";
import type { ValidateFunction } from "ajv";
import { readWire } from "./_wire";

// OpenAI's published schemas (test/fixtures/wire), compiled once.
const schemas = JSON.parse(readWire("openai-chat-schemas.json")) as { $id: string };
const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addSchema(schemas);

function compiled(name: string): ValidateFunction {
  const validate = ajv.getSchema(`${schemas.$id}#/$defs/${name}`);
  if (!validate) throw new Error(`OpenAI schema ${name} not found in openai-chat-schemas.json`);
  return validate;
}

const validators = {
  completion: compiled("CreateChatCompletionResponse"),
  chunk: compiled("CreateChatCompletionStreamResponse"),
  error: compiled("ErrorResponse"),
};

/** Throws with ajv's own report when `value` breaks OpenAI's schema for `kind`. */
export function assertOpenAISchema(kind: keyof typeof validators, value: unknown): void {
  const validate = validators[kind];
  if (!validate(value)) {
    throw new Error(`not a valid OpenAI ${kind}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`);
  }
}
