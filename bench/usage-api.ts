// `node --import tsx bench/usage-api.ts [--lines=1000000] [--drivers=memory,fs,redis]`: the
// admin usage API over one account of N ledger lines (30 days, a few agents, keys and models)
// on each driver: a page of `GET /admin/usage` by cursor and `GET /admin/usage/summary` for
// the month, through gateway.fetch as a host's admin UI calls them. Target: under 50 ms each
// at a million lines. Not a test: figures.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsLedger } from "../src/fs";
import { createGateway, createMemoryLedger, createRedisLedger, echo, signAdminToken, type LedgerStore } from "../src/index";
import { firstThenMedian } from "./lib/first-then-median";
import { fillLedger, syntheticLine } from "./lib/synthetic-ledger";
import { freePort } from "../test/_net";
import { startCommand } from "./lib/processes";

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const LINES = Number(arg("lines", "1000000"));
const DRIVERS = arg("drivers", "memory,fs,redis").split(",");
const DAYS = 30;
const ACCOUNT = "acct_usage_bench";
const T0 = Date.UTC(2026, 10, 1);
const SECRET = "bench-admin-secret-that-is-long-enough";
const logger = { warn: () => {}, error: (message: string, detail?: unknown) => console.error(message, detail) };

const SPEC = { account: ACCOUNT, lines: LINES, days: DAYS, t0: T0 };
const lineAt = (i: number) => syntheticLine(i, SPEC);
const fill = (ledger: LedgerStore) => fillLedger(ledger, SPEC);

/** The first call's time, then the median of 9 more, in ms. */
const time = (what: () => Promise<unknown>) => firstThenMedian(what, 9);

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
