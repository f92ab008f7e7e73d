// `node --import tsx bench/ledger-volume.ts [--lines=100000] [--drivers=fs,redis]`: fills one
// account with lines over 30 days (a few agents, keys and models), then prints what it
// takes on disk / in Redis and how long a page and a 30-day summary take. Not a test: figures.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createFsLedger } from "../src/stores/ledger/fs";
import { createRedisLedger } from "../src/stores/ledger/redis";
import type { LedgerStore } from "../src/stores/ledger/types";
import { firstThenMedian } from "./lib/first-then-median";
import { fillLedger, IN_FLIGHT, syntheticLine } from "./lib/synthetic-ledger";
import { freePort } from "../test/_net";
import { startCommand } from "./lib/processes";

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const LINES = Number(arg("lines", "100000"));
const DRIVERS = arg("drivers", "fs,redis").split(",");
const DAYS = 30;
const ACCOUNT = "acct_volume";
const T0 = Date.UTC(2026, 10, 1);

const SPEC = { account: ACCOUNT, lines: LINES, days: DAYS, t0: T0 };
const lineAt = (i: number) => syntheticLine(i, SPEC);
const fill = (ledger: LedgerStore) => fillLedger(ledger, SPEC);

/** The first call's time, then the median of 5 more, in ms. */
const time = (what: () => Promise<unknown>) => firstThenMedian(what, 5);

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
