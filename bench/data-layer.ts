// `npm run bench:data [-- --requests=100000] [-- --configs=memory,fs,redis,sqlite]`: what the
// data layer keeps per request. Each config answers N paid chat completions in-process
// (gateway.fetch, the echo model, a new thread each, as clients without thread ids make
// them), then prints files or keys and bytes on disk or in Redis; memory prints RSS as it
// goes (flat once its thread and ledger budgets are full). Not a test: figures.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabase } from "db0";
import libsql from "db0/connectors/libsql/node";
import { Redis } from "ioredis";
import { createStorage } from "unstorage";
import db0Driver from "unstorage/drivers/db0";
import { createFsLedger, createFsStorage } from "../src/fs";
import { createGateway, createSqlLedger, echo, type Gateway, type GatewayOptions } from "../src/index";
import { freePort } from "../test/_net";
import { startCommand } from "./lib/processes";

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const quick = process.argv.includes("--quick");
const REQUESTS = Number(arg("requests", quick ? "10000" : "100000"));
const CONFIGS = arg("configs", "memory,fs,redis,sqlite").split(",");
const IN_FLIGHT = 32;
const SAMPLE_EVERY = REQUESTS / 10;

const logger = { warn: () => {}, error: (message: string, detail?: unknown) => console.error(message, detail) };
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function drive(gateway: Gateway, onSample?: (done: number) => void): Promise<{ seconds: number; key: string }> {
  const agent = await gateway.admin.createAgent("acct_bench", { name: "Bench" });
  const { key } = await gateway.admin.createKey("acct_bench", agent.id, { name: "bench" });
  await gateway.admin.credit("acct_bench", 1_000_000_000_000);
  const body = JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "How much does a request leave behind?" }] });
  const started = performance.now();
  for (let done = 0; done < REQUESTS; done += IN_FLIGHT) {
    await Promise.all(
      Array.from({ length: Math.min(IN_FLIGHT, REQUESTS - done) }, async () => {
        const response = await gateway.fetch(new Request("http://bench/api/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${key}` }, body }));
        if (response.status !== 200) throw new Error(`status ${response.status}: ${await response.text()}`);
        await response.arrayBuffer();
      }),
    );
    if (onSample && (done + IN_FLIGHT) % SAMPLE_EVERY < IN_FLIGHT) onSample(done + IN_FLIGHT);
  }
  return { seconds: (performance.now() - started) / 1000, key };
}

async function folder(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files += 1;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}

const rows: string[] = [];
const report = (config: string, seconds: number, kept: string) => {
  const line = `${config.padEnd(8)} ${REQUESTS} requests in ${seconds.toFixed(1)} s (${Math.round(REQUESTS / seconds)}/s): ${kept}`;
  rows.push(line);
  console.log(line);
};

for (const config of CONFIGS) {
  if (config === "memory") {
    globalThis.gc?.();
    const samples: string[] = [];
    const gateway = createGateway({ providers: [echo()], logger });
    const { seconds } = await drive(gateway, (done) => samples.push(`${done}: ${mib(process.memoryUsage().rss)}`));
    report("memory", seconds, `RSS after each tenth: ${samples.join(", ")}; threads kept ${(await gateway.records.storage.getKeys("threads:")).length}`);
    await gateway.close();
  } else if (config === "fs") {
    const dir = await mkdtemp(join(tmpdir(), "agentgate-bench-fs-"));
    const gateway = createGateway({ providers: [echo()], logger, storage: createFsStorage({ dir: join(dir, "storage") }), ledger: createFsLedger({ dir: join(dir, "ledger") }) });
    const { seconds } = await drive(gateway);
    await gateway.close();
    const storage = await folder(join(dir, "storage"));
    const ledger = await folder(join(dir, "ledger"));
    report("fs", seconds, `documents ${storage.files} files, ${mib(storage.bytes)}; ledger ${ledger.files} files, ${mib(ledger.bytes)}`);
    await rm(dir, { recursive: true, force: true });
  } else if (config === "redis") {
    const port = await freePort();
    const server = await startCommand("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], "Ready to accept connections");
    const url = `redis://127.0.0.1:${port}`;
    const client = new Redis(url);
    const before = Number(/used_memory:(\d+)/.exec(await client.info("memory"))![1]);
    const gateway = createGateway({ providers: [echo()], logger, redis: url });
    const { seconds } = await drive(gateway);
    await gateway.close();
    const after = Number(/used_memory:(\d+)/.exec(await client.info("memory"))![1]);
    report("redis", seconds, `${await client.dbsize()} keys, ${mib(after - before)} of memory (documents, ledger, atomics)`);
    client.disconnect();
    await server.stop();
  } else if (config === "sqlite") {
    const dir = await mkdtemp(join(tmpdir(), "agentgate-bench-sqlite-"));
    const file = join(dir, "agentgate.db");
    const db = createDatabase(libsql({ url: `file:${file}` }));
    const options: GatewayOptions = { providers: [echo()], logger, storage: createStorage({ driver: db0Driver({ database: db }) }), ledger: createSqlLedger({ db }) };
    const gateway = createGateway(options);
    const { seconds } = await drive(gateway);
    await gateway.close();
    const files = await folder(dir);
    report("sqlite", seconds, `${files.files} files (the database and its WAL), ${mib(files.bytes)}`);
    await db.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
console.log(`\n${rows.join("\n")}`);
