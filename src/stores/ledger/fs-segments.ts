import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { isLedgerEntry } from "./rollups";
import type { LedgerEntry } from "./types";

/**
 * Segment files of the fs ledger: `<day>/<000001>.jsonl`, one JSON line per ledger line,
 * only ever appended to. A line counts once its newline is on disk; what follows the last
 * newline (a write cut short by a killed process) is never read as a line.
 */

/** What the store knows of one segment file (kept in memory, and in the day's rollup file). */
export interface SegmentMeta {
  name: string;
  /** Bytes up to the end of the last whole line: readers never read past it. */
  bytes: number;
  /** Whole lines that are ledger lines (torn or foreign lines are not counted). */
  lines: number;
  minId: string | null;
  maxId: string | null;
}

/** A line read back: its id (read without parsing when the line starts with it) and its text. */
export interface RawLine {
  id: string;
  text: string;
}

const SEGMENT = /^(\d{6,})\.jsonl$/;

/** The file name of segment number `n` (names sort as the numbers do). */
export function segmentName(n: number): string {
  return `${String(n).padStart(6, "0")}.jsonl`;
}

/** The number in a segment's file name, or null for any other file. */
export function segmentNumber(name: string): number | null {
  const match = SEGMENT.exec(name);
  return match ? Number(match[1]) : null;
}

/** One ledger line as stored: JSON with the id first (so readers can skip lines by id unparsed), then a newline. */
export function encodeLine(entry: LedgerEntry): string {
  const { id, ...rest } = entry;
  return `${JSON.stringify({ id, ...rest })}\n`;
}

/** The segment files among a folder's names, in order. */
export function segmentNames(names: readonly string[]): string[] {
  return names.filter((name) => segmentNumber(name) !== null).sort((a, b) => segmentNumber(a)! - segmentNumber(b)!);
}

/** The size of a file, 0 when it is not there. */
export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
}

/**
 * The whole lines in bytes [from, to) of a segment, and where the last of them ends (an
 * absolute offset). Bytes after the last newline are left out: a torn write, or a write
 * still under way. One file is open at a time, and only for this read.
 */
export async function readRawLines(path: string, from: number, to: number): Promise<{ lines: RawLine[]; end: number }> {
  if (to <= from) return { lines: [], end: from };
  const buffer = Buffer.allocUnsafe(to - from);
  const handle = await open(path, "r");
  let read = 0;
  try {
    while (read < buffer.length) {
      const { bytesRead } = await handle.read(buffer, read, buffer.length - read, from + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
  } finally {
    await handle.close();
  }
  const last = buffer.lastIndexOf(10, read - 1);
  if (last < 0) return { lines: [], end: from };
  const lines: RawLine[] = [];
  for (const text of buffer.toString("utf8", 0, last).split("\n")) {
    const id = lineId(text);
    if (id !== null) lines.push({ id, text });
  }
  return { lines, end: from + last + 1 };
}

/** A raw line as a ledger line, or null when it is not one (a torn or foreign line). */
export function parseLine(line: RawLine): LedgerEntry | null {
  try {
    const value: unknown = JSON.parse(line.text);
    return isLedgerEntry(value) && value.id === line.id ? value : null;
  } catch {
    return null;
  }
}

/** The whole, valid ledger lines in bytes [from, to) of a segment, and where the last whole line ends. */
export async function readEntries(path: string, from: number, to: number): Promise<{ entries: LedgerEntry[]; end: number }> {
  const { lines, end } = await readRawLines(path, from, to);
  const entries: LedgerEntry[] = [];
  for (const line of lines) {
    const entry = parseLine(line);
    if (entry) entries.push(entry);
  }
  return { entries, end };
}

/** Folds lines into a segment's meta (count and id range). */
export function addToMeta(meta: SegmentMeta, entries: Iterable<Pick<LedgerEntry, "id">>): void {
  for (const { id } of entries) {
    meta.lines += 1;
    if (meta.minId === null || id < meta.minId) meta.minId = id;
    if (meta.maxId === null || id > meta.maxId) meta.maxId = id;
  }
}

/** Appends text to a segment (creating it), with one write; the file is closed again at once. */
export async function appendText(path: string, text: string): Promise<void> {
  const handle = await open(path, "a");
  try {
    await handle.write(text);
  } finally {
    await handle.close();
  }
}

/** Joins a folder and a segment name (kept here so callers never build paths by hand). */
export function segmentPath(dayDir: string, name: string): string {
  return join(dayDir, name);
}

// --- internal ---

const ID_START = '{"id":"';

/**
 * The id of a stored line without parsing it (lines start with their id), or null for a
 * line that does not start like one. An id with escapes is parsed in full.
 */
function lineId(text: string): string | null {
  if (!text.startsWith(ID_START)) return null;
  const end = text.indexOf('"', ID_START.length);
  if (end < 0) return null;
  const id = text.slice(ID_START.length, end);
  if (!id.includes("\\")) return id;
  try {
    const value = JSON.parse(text) as { id?: unknown };
    return typeof value.id === "string" ? value.id : null;
  } catch {
    return null;
  }
}
