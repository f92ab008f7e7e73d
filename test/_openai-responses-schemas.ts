import Ajv2020 from "ajv/dist/2020";
import type { ValidateFunction } from "ajv";
import { readWire } from "./_wire";

// OpenAI's Responses schemas (test/fixtures/wire/openai-responses-schemas.json), compiled once.
const schemas = JSON.parse(readWire("openai-responses-schemas.json")) as { $id: string; $defs: Record<string, { properties?: { type?: { enum?: string[] } } }> };
const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addSchema(schemas);

function compiled(name: string): ValidateFunction {
  const validate = ajv.getSchema(`${schemas.$id}#/$defs/${name}`);
  if (!validate) throw new Error(`OpenAI schema ${name} not found in openai-responses-schemas.json`);
  return validate;
}

const validators = {
  response: compiled("Response"),
  itemList: compiled("ResponseItemList"),
  error: compiled("ErrorResponse"),
};

// Each stream event by its own definition (picked by its `type`), for a readable error.
const eventDefinitions = new Map<string, string>();
for (const [name, definition] of Object.entries(schemas.$defs)) {
  const type = definition.properties?.type?.enum;
  if (name.endsWith("Event") && type?.length === 1) eventDefinitions.set(type[0], name);
}

/** Throws with ajv's own report when `value` breaks OpenAI's Responses schema for `kind`. */
export function assertResponsesSchema(kind: keyof typeof validators, value: unknown): void {
  check(validators[kind], kind, value);
}

/** Throws unless `event` is one of the spec's stream events and valid by its own definition. */
export function assertResponsesEvent(event: { type?: unknown }): void {
  const name = eventDefinitions.get(String(event.type));
  if (!name) throw new Error(`not a Responses stream event type: ${String(event.type)}`);
  check(compiled(name), name, event);
}

function check(validate: ValidateFunction, kind: string, value: unknown): void {
  if (!validate(value)) throw new Error(`not a valid OpenAI ${kind}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`);
}
