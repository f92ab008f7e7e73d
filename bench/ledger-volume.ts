// `node --import tsx bench/ledger-volume.ts [--lines=100000] [--drivers=fs,redis]`: fills one
// account with lines over 30 days (a few agents, keys and models), then prints what it
// takes on disk / in Redis and how long a page and a 30-day summary take. Not a test: figures.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createFsLedger } from "../src/stores/ledger/fs";
import { createRedisLedger } from "../src/stores/ledger/redis";
import type { LedgerEntry, LedgerStore } from "../src/stores/ledger/types";
import { freePort } from "../test/_net";
import { startCommand } from "./lib/processes";

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const LINES = Number(arg("lines", "100000"));
const DRIVERS = arg("drivers", "fs,redis").split(",");
const DAYS = 30;
const ACCOUNT = "acct_volume";
const T0 = Date.UTC(2026, 10, 1);
// Appends in flight at once, as many concurrent requests would make them.
const IN_FLIGHT = 64;

/** Line `i` of `LINES`, evenly over 30 days, with a sortable id as the gateway's (the same each run). */
function lineAt(i: number): LedgerEntry {
  const at = T0 + Math.floor((i * DAYS * 86_400_000) / LINES);
  const credit = i % 500 === 0;
  return {
    id: `led_${at.toString(36).padStart(9, "0")}${(i % 46656).toString(36).padStart(3, "0")}${i.toString(36).padStart(10, "0")}`,
    account_id: ACCOUNT,
    type: credit ? "credit" : "charge",
    amount_micros: credit ? 5_000_000 : -(100 + (i % 900)),
    created_at: new Date(at).toISOString(),
    agent_id: credit ? null : `agt_${i % 4}`,
    key_id: credit ? null : `key_${i % 7}`,
    model: credit ? null : ["openai/gpt-4.1-mini", "anthropic/claude-sonnet-4", "google/gemini-2.5-flash"][i % 3],
    thread_id: credit ? null : `thread_${i % 1000}`,
    prompt_tokens: credit ? undefined : 200 + (i % 50),
    completion_tokens: credit ? undefined : 40 + (i % 30),
  };
}

async function fill(ledger: LedgerStore): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < LINES; i += IN_FLIGHT) {
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, LINES - i) }, (_, j) => ledger.append(lineAt(i + j))));
  }
  return performance.now() - started;
}

/** The first call's time, then the median of 5 more. */
async function time(what: () => Promise<unknown>): Promise<string> {
  let started = performance.now();
  await what();
  const first = performance.now() - started;
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    started = performance.now();
    await what();
    runs.push(performance.now() - started);
  }
  runs.sort((a, b) => a - b);
  return `${first.toFixed(1)} ms first, ${runs[2].toFixed(1)} ms median`;
}

async function measure(name: string, open: () => LedgerStore, size: () => Promise<string>): Promise<void> {
  let ledger = open();
  const fillMs = await fill(ledger);
  await ledger.close();
  console.log(`\n${name}, ${LINES.toLocaleString("en")} lines over ${DAYS} days: appended in ${(fillMs / 1000).toFixed(1)} s (${Math.round(LINES / (fillMs / 1000)).toLocaleString("en")} lines/s, ${IN_FLIGHT} in flight)`);
  console.log(`  size: ${await size()}`);
  // A fresh store, as after a restart: its first call also loads what it needs.
  ledger = open();
  console.log(`  total (first call after opening): ${await time(() => ledger.total(ACCOUNT))} = ${await ledger.total(ACCOUNT)}`);
  const cursor = lineAt(Math.floor(LINES / 2)).id;
  console.log(`  page of 100 from the start: ${await time(() => ledger.page(ACCOUNT, { limit: 100 }))}`);
  console.log(`  page of 100 from the middle (cursor): ${await time(() => ledger.page(ACCOUNT, { limit: 100, after: cursor }))}`);
  console.log(`  page of 100 from the middle, agent filter: ${await time(() => ledger.page(ACCOUNT, { limit: 100, after: cursor, agentId: "agt_1" }))}`);
  const month = { from: "2026-11-01", to: "2026-11-30" } as const;
  console.log(`  30-day summary by day: ${await time(() => ledger.summarize(ACCOUNT, { ...month, groupBy: ["day"] }))}`);
  console.log(`  30-day summary by model: ${await time(() => ledger.summarize(ACCOUNT, { ...month, groupBy: ["model"] }))}`);
  const rows = await ledger.summarize(ACCOUNT, { ...month, groupBy: ["day", "agent", "key", "model", "type"] });
  console.log(`  rollups (day × agent × key × model × type): ${rows.length}, lines in them: ${rows.reduce((sum, row) => sum + row.lines, 0).toLocaleString("en")}`);
  await ledger.close();
}

async function fsSize(dir: string): Promise<string> {
  let files = 0;
  let dirs = 0;
  let bytes = 0;
  const walk = async (path: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        dirs += 1;
        await walk(child);
      } else {
        files += 1;
        bytes += (await stat(child)).size;
      }
    }
  };
  await walk(dir);
  return `${files} files in ${dirs} folders, ${(bytes / 1e6).toFixed(1)} MB (${Math.round(bytes / LINES)} bytes a line)`;
}

if (DRIVERS.includes("fs")) {
  const dir = await mkdtemp(join(tmpdir(), "agentgate-ledger-volume-"));
  try {
    await measure("fs", () => createFsLedger({ dir }), () => fsSize(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (DRIVERS.includes("redis")) {
  const port = await freePort();
  const server = await startCommand("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], "Ready to accept connections");
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url);
  try {
    const redisSize = async () => {
      const keys = await client.dbsize();
      const info = await client.info("memory");
      const used = Number(/used_memory:(\d+)/.exec(info)![1]);
      const usage = async (key: string) => Number(await client.memory("USAGE", key, "SAMPLES", "0"));
      const lines = await usage(`agentgate:{${ACCOUNT}}:ledger:lines`);
      const ids = await usage(`agentgate:{${ACCOUNT}}:ledger:ids`);
      return `${keys} keys, used_memory ${(used / 1e6).toFixed(1)} MB (lines hash ${(lines / 1e6).toFixed(1)} MB, ids sorted set ${(ids / 1e6).toFixed(1)} MB; ${Math.round(used / LINES)} bytes a line)`;
    };
    await measure("redis", () => createRedisLedger({ redis: url }), redisSize);
  } finally {
    await client.quit();
    await server.stop();
  }
}
