import { spawn } from "node:child_process";
import { appendFile, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFsLedger } from "../../src/stores/ledger/fs";
import type { LedgerEntry, LedgerStore, SummaryRow } from "../../src/stores/ledger/types";
import { describeLedgerStore, line } from "./_ledger-suite";

describeLedgerStore(
  "fs",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "agentgate-ledger-"));
    return { ledger: createFsLedger({ dir }), reopen: async () => createFsLedger({ dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
  { persistent: true },
);

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 10, 1, 12);
const WRITER = fileURLToPath(new URL("../fixtures/ledger-fs-writer.ts", import.meta.url));

describe("the fs ledger store's files", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "agentgate-ledger-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const allPages = async (ledger: LedgerStore, accountId: string, limit = 1000) => {
    const seen: LedgerEntry[] = [];
    for (let after: string | undefined; ; ) {
      const page = await ledger.page(accountId, { limit, after });
      seen.push(...page.entries);
      if (!page.hasMore) return seen;
      after = page.entries.at(-1)!.id;
    }
  };
  const dayDir = (accountId: string, day: string) => join(dir, accountId, day);

  it("skips a line torn by a killed process, and the next append starts on a line of its own", async () => {
    const lines = [line("acct_1", T0, { amount_micros: -1 }), line("acct_1", T0 + 1, { amount_micros: -2 })];
    let ledger = createFsLedger({ dir });
    for (const entry of lines) await ledger.append(entry);
    await ledger.close();
    // A write cut short: the start of a third line, without its newline.
    const torn = line("acct_1", T0 + 2, { amount_micros: -4 });
    await appendFile(join(dayDir("acct_1", "2026-11-01"), "000001.jsonl"), JSON.stringify(torn).slice(0, 60));
    ledger = createFsLedger({ dir });
    expect(await allPages(ledger, "acct_1")).toEqual(lines);
    expect(await ledger.total("acct_1")).toBe(-3);
    expect(await ledger.summarize("acct_1")).toEqual([{ lines: 2, prompt_tokens: 20, completion_tokens: 10, amount_micros: -3 }]);
    // The torn line was never written, so its retry lands.
    await ledger.append(torn);
    const after = line("acct_1", T0 + 3, { amount_micros: -8 });
    await ledger.append(after);
    expect(await allPages(ledger, "acct_1")).toEqual([...lines, torn, after]);
    expect(await ledger.total("acct_1")).toBe(-15);
    await ledger.close();
    ledger = createFsLedger({ dir });
    expect(await allPages(ledger, "acct_1")).toEqual([...lines, torn, after]);
    expect(await ledger.summarize("acct_1")).toEqual([{ lines: 4, prompt_tokens: 40, completion_tokens: 20, amount_micros: -15 }]);
    await ledger.close();
  });

  it("rolls to a new segment file every so many lines, one folder per day, and pages across them", async () => {
    const ledger = createFsLedger({ dir, segmentLines: 3 });
    const lines = [...Array.from({ length: 7 }, (_, i) => line("acct_1", T0 + i)), ...Array.from({ length: 2 }, (_, i) => line("acct_1", T0 + DAY_MS + i))];
    // Out of order, and some at once, so segments overlap in ids and batches straddle a roll.
    await ledger.append(lines[4]);
    await Promise.all([lines[0], lines[6], lines[2], lines[8]].map((entry) => ledger.append(entry)));
    for (const entry of [lines[1], lines[7], lines[5], lines[3]]) await ledger.append(entry);
    await ledger.close();
    expect((await readdir(join(dir, "acct_1"))).sort()).toEqual(["2026-11-01", "2026-11-02"]);
    expect((await readdir(dayDir("acct_1", "2026-11-01"))).sort()).toEqual(["000001.jsonl", "000002.jsonl", "000003.jsonl", "rollup.json"]);
    const counts = await Promise.all(["000001", "000002", "000003"].map(async (name) => (await readFile(join(dayDir("acct_1", "2026-11-01"), `${name}.jsonl`), "utf8")).split("\n").length - 1));
    expect(counts).toEqual([3, 3, 1]);
    const reopened = createFsLedger({ dir, segmentLines: 3 });
    expect((await allPages(reopened, "acct_1", 2)).map((e) => e.id)).toEqual(lines.map((e) => e.id));
    expect((await reopened.page("acct_1", { after: lines[3].id, limit: 2 })).entries.map((e) => e.id)).toEqual([lines[4].id, lines[5].id]);
    expect(await reopened.summarize("acct_1", { groupBy: ["day"] })).toEqual([
      { day: "2026-11-01", lines: 7, prompt_tokens: 70, completion_tokens: 35, amount_micros: -700 },
      { day: "2026-11-02", lines: 2, prompt_tokens: 20, completion_tokens: 10, amount_micros: -200 },
    ]);
    await reopened.close();
  });

  it("keeps totals and summaries exact after a kill that left lines past the rollup files", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", WRITER], { env: { ...process.env, LEDGER_DIR: dir, LINES: "700", ROLLUP_EVERY: "100" }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (data: Buffer) => (stderr += data.toString()));
    const expected = await new Promise<{ total: number; summary: SummaryRow[] }>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`the writer exited with ${code}: ${stderr}`)));
      createInterface({ input: child.stdout! }).once("line", (text) => resolve(JSON.parse(text)));
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    // Some rollups were written (every 100 lines of a day), the rest of the lines are past them.
    const covered = async () => {
      const files = await Promise.all(["2026-11-01", "2026-11-02", "2026-11-03"].map((day) => readFile(join(dayDir("acct_1", day), "rollup.json"), "utf8").catch(() => null)));
      return files.map((text) => (text ? (JSON.parse(text) as { rollups: { lines: number }[] }).rollups.reduce((sum, r) => sum + r.lines, 0) : 0));
    };
    const before = await covered();
    expect(before.reduce((a, b) => a + b)).toBeGreaterThan(0);
    expect(before.reduce((a, b) => a + b)).toBeLessThan(700);
    expect(expected.total).toBe(-(700 * 701) / 2);

    let ledger = createFsLedger({ dir });
    expect(await ledger.total("acct_1")).toBe(expected.total);
    expect(await ledger.summarize("acct_1", { groupBy: ["day", "agent"] })).toEqual(expected.summary);
    expect(await allPages(ledger, "acct_1")).toHaveLength(700);
    await ledger.close();
    // Closing wrote the rollups of what the killed writer left uncovered.
    const perDay = new Map<string, number>();
    for (const row of expected.summary) perDay.set(row.day!, (perDay.get(row.day!) ?? 0) + row.lines);
    expect(await covered()).toEqual([...perDay.values()]);
    ledger = createFsLedger({ dir });
    expect(await ledger.total("acct_1")).toBe(expected.total);
    expect(await ledger.summarize("acct_1", { groupBy: ["day", "agent"] })).toEqual(expected.summary);
    await ledger.close();
  });

  it("finds a retried line on disk once its id is no longer among the recent ones, also after a restart", async () => {
    const lines = Array.from({ length: 20 }, (_, i) => line("acct_1", T0 + i * 1000, { amount_micros: -(i + 1) }));
    let ledger = createFsLedger({ dir, recentIds: 3, segmentLines: 4 });
    for (const entry of lines) await ledger.append(entry);
    for (const entry of [lines[0], lines[9], lines[19]]) await ledger.append(entry);
    expect(await ledger.total("acct_1")).toBe(-210);
    await ledger.close();
    ledger = createFsLedger({ dir, recentIds: 3, segmentLines: 4 });
    await Promise.all(lines.map((entry) => ledger.append(entry)));
    expect(await ledger.total("acct_1")).toBe(-210);
    expect((await allPages(ledger, "acct_1")).map((e) => e.id)).toEqual(lines.map((e) => e.id));
    await ledger.close();
  });

  it("names account folders safely inside its folder, whatever the account id", async () => {
    const ledger = createFsLedger({ dir });
    const odd = ["..", "../x", "a/b", "a:b", "%2E%2E", "x".repeat(300)];
    for (const [i, accountId] of odd.entries()) await ledger.append(line(accountId, T0, { amount_micros: -(i + 1) }));
    await ledger.close();
    const names = await readdir(dir);
    expect(names).toHaveLength(odd.length);
    for (const name of names) {
      expect(name).toMatch(/^[A-Za-z0-9_%-]+$/);
      expect(name.length).toBeLessThanOrEqual(200);
    }
    const reopened = createFsLedger({ dir });
    for (const [i, accountId] of odd.entries()) expect(await reopened.total(accountId)).toBe(-(i + 1));
    await reopened.close();
  });

  it("lets idle accounts go beyond its bound and reads them again when asked", async () => {
    const ledger = createFsLedger({ dir, maxAccounts: 2, flushMs: 1 });
    for (let round = 0; round < 3; round++) {
      for (let a = 0; a < 5; a++) await ledger.append(line(`acct_${a}`, T0 + round * 10 + a, { amount_micros: -(a + 1) }));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (let a = 0; a < 5; a++) {
      expect(await ledger.total(`acct_${a}`)).toBe(-3 * (a + 1));
      expect((await ledger.page(`acct_${a}`)).entries).toHaveLength(3);
    }
    await ledger.close();
  });
});
