import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { addAllToRollups, isTempFile, readDayFile, rollupMap, type DayFile } from "./fs-rollup-file";
import { addToMeta, fileSize, readEntries, segmentNames, segmentNumber, segmentPath, type SegmentMeta } from "./fs-segments";
import type { Rollup } from "./rollups";

/** One day folder of an account as the writer knows it: its segments, in order. */
export interface DayState {
  day: string;
  dir: string;
  segments: SegmentMeta[];
  /** Lines on disk the rollup file does not cover yet (appended since its last write, or found at load). */
  unflushed: number;
  /** Segments whose file ends in a torn line (name -> file size): the next write starts with a newline. */
  torn: Map<string, number>;
}

/** The day's rollups over its segments' first `ends` bytes, and the segments' metas there. */
export interface FoldedDay {
  rollups: Rollup[];
  segments: SegmentMeta[];
  /** Lines read past the rollup file. */
  tailLines: number;
  /** Segments that end in bytes after their last newline (name -> file size); only when `ends` was not given. */
  torn: Map<string, number>;
}

/**
 * Reads a day as of `ends` (segment name -> bytes; without it, every segment (of `names`,
 * or found in the folder) to its end):
 * the rollup file, plus the lines past what it covers. At load (no `ends`), a rollup file
 * that does not fit the segments (one is missing or shorter than it says) is ignored and
 * the day read whole.
 */
export async function foldDay(dir: string, ends?: ReadonlyMap<string, number>, names?: readonly string[]): Promise<FoldedDay> {
  const sizes = new Map<string, number>();
  if (ends) for (const [name, bytes] of ends) sizes.set(name, bytes);
  else for (const name of names ?? segmentNames(await readdir(dir))) sizes.set(name, await fileSize(segmentPath(dir, name)));
  let file: DayFile = await readDayFile(dir);
  if (ends) {
    // A rollup written since `ends` were taken covers whole lines already on disk: read up to it, not past it.
    for (const meta of file.segments) if ((sizes.get(meta.name) ?? -1) < meta.bytes) sizes.set(meta.name, meta.bytes);
    sortByNumber(sizes);
  } else if (!fits(file, sizes)) file = { segments: [], rollups: [] };
  const covered = new Map(file.segments.map((meta) => [meta.name, meta]));
  // Keyed only once a tail line needs adding: most reads find no tail.
  let rollups: Map<string, Rollup> | null = null;
  const segments: SegmentMeta[] = [];
  const torn = new Map<string, number>();
  let tailLines = 0;
  for (const [name, size] of sizes) {
    const from = covered.get(name);
    const meta: SegmentMeta = from ? { ...from } : { name, bytes: 0, lines: 0, minId: null, maxId: null };
    if (size > meta.bytes) {
      const { entries, end } = await readEntries(segmentPath(dir, name), meta.bytes, size);
      addToMeta(meta, entries);
      if (entries.length > 0) addAllToRollups((rollups ??= rollupMap(file.rollups)), entries);
      tailLines += entries.length;
      meta.bytes = end;
      if (!ends && end < size) torn.set(name, size);
    }
    segments.push(meta);
  }
  return { rollups: rollups ? [...rollups.values()] : file.rollups, segments, tailLines, torn };
}

/** Loads a day folder for the writer (and removes temp files a killed writer left in it). */
export async function loadDay(dir: string, day: string): Promise<{ state: DayState; amount: number; lines: number }> {
  const names = await readdir(dir);
  for (const name of names) if (isTempFile(name)) await rm(join(dir, name), { force: true });
  const folded = await foldDay(dir, undefined, segmentNames(names));
  let amount = 0;
  for (const rollup of folded.rollups) amount += rollup.amount_micros;
  const lines = folded.segments.reduce((sum, meta) => sum + meta.lines, 0);
  return { state: { day, dir, segments: folded.segments, unflushed: folded.tailLines, torn: folded.torn }, amount, lines };
}

/** Where each segment of a day ends now, for a read or a rollup that must not see later writes. */
export function segmentEnds(day: DayState): Map<string, number> {
  return new Map(day.segments.map((meta) => [meta.name, meta.bytes]));
}

// --- internal ---

function sortByNumber(sizes: Map<string, number>): void {
  const sorted = [...sizes].sort(([a], [b]) => segmentNumber(a)! - segmentNumber(b)!);
  sizes.clear();
  for (const [name, size] of sorted) sizes.set(name, size);
}

/** A rollup file fits segments when each segment it covers is there with at least the bytes it says. */
function fits(file: DayFile, sizes: ReadonlyMap<string, number>): boolean {
  return file.segments.every((meta) => (sizes.get(meta.name) ?? 0) >= meta.bytes);
}
