import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";

/**
 * Writes a file so that a reader, or a process killed mid-write, sees the old content or
 * the new, never half: to `<path>.<random>.tmp` first, then renamed over `path`. A failed
 * write leaves no temporary file behind (one a killed process left ends in `.tmp`).
 */
export async function writeWhole(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
