import type { z } from "zod";
import { createAPIError } from "./errors";

/**
 * Parses `data` with a prebuilt zod schema, or throws a 400 `invalid_request` whose
 * `param` names the first offending field (`messages[0].content`), as OpenAI does.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue.path.length ? formatPath(issue.path) : null;
  const message = param ? `Invalid value for '${param}': ${issue.message}` : issue.message;
  throw createAPIError({ code: "invalid_request", message, param });
}

// --- internal ---

function formatPath(path: PropertyKey[]): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out;
}
