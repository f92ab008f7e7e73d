import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeWhole } from "../write-whole";
import type { SegmentMeta } from "./fs-segments";
import { addToRollups, rollupField, type Rollup } from "./rollups";
import type { LedgerEntry } from "./types";

/**
 * The rollup file of one day folder (`<day>/rollup.json`): the day's rollups over the
 * segments' first `bytes` each, and those segments' metas. Written whole to a temp file,
 * then renamed over the old one, so a reader sees the old or the new file, never half.
 * Lines past the bytes it covers (the tail) are read from the segments.
 */
export interface DayFile {
  segments: SegmentMeta[];
  rollups: Rollup[];
}

export const ROLLUP_FILE = "rollup.json";

/** The day's rollup file, or an empty one (covering nothing) when it is absent or unreadable. */
export async function readDayFile(dayDir: string): Promise<DayFile> {
  let text: string;
  try {
    text = await readFile(join(dayDir, ROLLUP_FILE), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { segments: [], rollups: [] };
    throw error;
  }
  try {
    const file = JSON.parse(text) as { v?: unknown; segments?: unknown; rollups?: unknown };
    if (file.v === 1 && Array.isArray(file.segments) && Array.isArray(file.rollups)) return { segments: file.segments as SegmentMeta[], rollups: file.rollups as Rollup[] };
  } catch {
    // An unreadable file (a disk that lost the rename's data): cover nothing, so every line is read again.
  }
  return { segments: [], rollups: [] };
}

/** Writes the day's rollup file: to a temp file first, then renamed over the old one. */
export async function writeDayFile(dayDir: string, file: DayFile): Promise<void> {
  await writeWhole(join(dayDir, ROLLUP_FILE), JSON.stringify({ v: 1, segments: file.segments, rollups: file.rollups }));
}

/** True for a temp file a killed writer left behind. */
export function isTempFile(name: string): boolean {
  return name.startsWith(`${ROLLUP_FILE}.`) && name.endsWith(".tmp");
}

/** The rollups of a file as a map by `rollupField` (copies: adding lines leaves the file's alone). */
export function rollupMap(rollups: readonly Rollup[]): Map<string, Rollup> {
  return new Map(rollups.map((rollup) => [rollupField(rollup), { ...rollup }]));
}

/** Adds lines to rollups by field. */
export function addAllToRollups(rollups: Map<string, Rollup>, entries: Iterable<LedgerEntry>): void {
  for (const entry of entries) addToRollups(rollups, entry);
}
