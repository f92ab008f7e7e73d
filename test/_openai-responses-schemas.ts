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

/**
 * A `fetch` that checks every answer of the Responses endpoints against OpenAI's schemas
 * before the client reads it: each response object, item list, error envelope and stream
 * event. For clients that take a `fetch` (openai, the AI SDK), so no answer goes unchecked.
 */
export const validatingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
  const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
  if (!/\/responses(\/|$)/.test(url.pathname) || method === "DELETE" && res.ok) return res;
  const text = await res.text();
  if (!res.ok) assertResponsesSchema("error", JSON.parse(text));
  else if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
    for (const frame of text.split("\n\n").filter(Boolean)) assertResponsesEvent(JSON.parse(frame.slice(frame.indexOf("data: ") + 6)));
  } else assertResponsesSchema(url.pathname.endsWith("/input_items") ? "itemList" : "response", JSON.parse(text));
  return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
};
