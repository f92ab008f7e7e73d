import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";

/** `../shared/wire` beside the repository: vendor samples and OpenAI's schemas (never copied in). */
export const WIRE_DIR = resolve(fileURLToPath(new URL("..", import.meta.url)), "../shared/wire");

/** A file of the shared wire reference; fails loudly when the folder is not beside the clone. */
export function readWire(...parts: string[]): string {
  if (!existsSync(WIRE_DIR)) {
    throw new Error(`The shared wire reference is missing: expected ${WIRE_DIR} (../shared/wire beside the repository, as CI lays it out).`);
  }
  return readFileSync(join(WIRE_DIR, ...parts), "utf8");
}

/** A vendor sample, parsed: `sample("anthropic", "error.529.json")`. */
export function sample<T = unknown>(vendor: "openai" | "anthropic" | "gemini", file: string): T {
  return JSON.parse(readWire("samples", vendor, file)) as T;
}
