// `node --import tsx bench/usage-api.ts [--lines=1000000] [--drivers=memory,fs,redis]`: the
// admin usage API over one account of N ledger lines (30 days, a few agents, keys and models)
// on each driver: a page of `GET /admin/usage` by cursor and `GET /admin/usage/summary` for
// the month, through gateway.fetch as a host's admin UI calls them. Target: under 50 ms each
// at a million lines. Not a test: figures.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsLedger } from "../src/fs";
import { createGateway, createMemoryLedger, createRedisLedger, echo, signAdminToken, type LedgerEntry, type LedgerStore } from "../src/index";
import { freePort } from "../test/_net";
import { startCommand } from "./lib/processes";

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const LINES = Number(arg("lines", "1000000"));
const DRIVERS = arg("drivers", "memory,fs,redis").split(",");
const DAYS = 30;
const ACCOUNT = "acct_usage_bench";
const T0 = Date.UTC(2026, 10, 1);
const IN_FLIGHT = 64;
const SECRET = "bench-admin-secret-that-is-long-enough";
const logger = { warn: () => {}, error: (message: string, detail?: unknown) => console.error(message, detail) };

/** Line `i` of `LINES`, evenly over the 30 days, with a sortable id as the gateway makes them. */
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
    model: credit ? null : ["openai/gpt-4.1-mini", "anthropic/claude-sonnet-4", "gemini/gemini-2.5-flash"][i % 3],
    thread_id: credit ? null : `thread_${i % 1000}`,
    prompt_tokens: credit ? undefined : 200 + (i % 50),
    completion_tokens: credit ? undefined : 40 + (i % 30),
  };
}

async function fill(ledger: LedgerStore): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < LINES; i += IN_FLIGHT) await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, LINES - i) }, (_, j) => ledger.append(lineAt(i + j))));
  return performance.now() - started;
}

/** The first call's time, then the median of 9 more, in ms. */
async function time(what: () => Promise<unknown>): Promise<string> {
  let started = performance.now();
  await what();
  const first = performance.now() - started;
  const runs: number[] = [];
  for (let i = 0; i < 9; i++) {
    started = performance.now();
    await what();
    runs.push(performance.now() - started);
  }
  runs.sort((a, b) => a - b);
  return `${first.toFixed(1)} ms first, ${runs[4]!.toFixed(1)} ms median`;
}

async function measure(name: string, open: () => LedgerStore): Promise<void> {
  const filling = open();
  const fillMs = await fill(filling);
  await filling.close();
  console.log(`\n${name}, ${LINES.toLocaleString("en")} lines over ${DAYS} days (appended in ${(fillMs / 1000).toFixed(1)} s)`);
  // A fresh gateway on the filled ledger, as after a restart.
  const gateway = createGateway({ providers: [echo()], ledger: open(), admin: { secret: SECRET }, logger });
  const token = await signAdminToken(SECRET, ACCOUNT, { expiresIn: "1h" });
  const get = async (path: string) => {
    const res = await gateway.fetch(new Request(`http://bench/api/admin${path}`, { headers: { authorization: `Bearer ${token}` } }));
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<{ data: unknown[] }>;
  };
  const middle = lineAt(Math.floor(LINES / 2)).id;
  const month = "since=2026-11-01&until=2026-11-30";
  console.log(`  GET /usage?limit=100 (first page): ${await time(() => get("/usage?limit=100"))}`);
  console.log(`  GET /usage?limit=100&after=<middle>: ${await time(() => get(`/usage?limit=100&after=${middle}`))}`);
  for (const group of ["day", "agent", "model", "key", "agent,model"]) console.log(`  GET /usage/summary?group_by=${group} (month): ${await time(() => get(`/usage/summary?group_by=${group}&${month}`))}`);
  const rows = (await get(`/usage/summary?group_by=day&${month}`)).data.length;
  console.log(`  (${rows} days in the month's summary)`);
  await gateway.close();
}

if (DRIVERS.includes("memory")) await measure("memory", (() => { const ledger = createMemoryLedger({ maxLines: LINES }); return () => ({ ...ledger, close: async () => {} }); })());

if (DRIVERS.includes("fs")) {
  const dir = await mkdtemp(join(tmpdir(), "agentgate-usage-bench-"));
  try {
    await measure("fs", () => createFsLedger({ dir }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (DRIVERS.includes("redis")) {
  const port = await freePort();
  const server = await startCommand("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], "Ready to accept connections");
  try {
    await measure("redis", () => createRedisLedger({ redis: `redis://127.0.0.1:${port}` }));
  } finally {
    await server.stop();
  }
}
