import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** The vendors' wire samples and OpenAI's schemas, copied into the repository (see test/fixtures/README.md). */
export const WIRE_DIR = fileURLToPath(new URL("./fixtures/wire", import.meta.url));

/** A file of the wire reference: `readWire("samples", "openai", "stream.chat.sse")`. */
export function readWire(...parts: string[]): string {
  return readFileSync(join(WIRE_DIR, ...parts), "utf8");
}

/** A vendor sample, parsed: `sample("anthropic", "error.529.json")`. */
export function sample<T = unknown>(vendor: "openai" | "anthropic" | "gemini" | "openai-responses", file: string): T {
  return JSON.parse(readWire("samples", vendor, file)) as T;
}
