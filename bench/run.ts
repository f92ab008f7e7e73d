// `npm run bench [-- --quick | --soak]`: agentgate (chat completions, and the Messages route) against a mock vendor upstream (OpenAI, Anthropic and Gemini wire formats), beside
// the baselines (the upstream itself, and a bare h3 v2 forwarder using global fetch).
// Servers run pinned to core 0, the load generator (autocannon) to core 1.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { freePort } from "../test/_net";
import { measureTTFB, runLoad, warmUp, type RunResult } from "./lib/load";
import { pinSelf, startCommand, startServer, type BenchProcess } from "./lib/processes";
import { checkTarget, type Target } from "./lib/requests";
import { printSummary, summarize } from "./lib/report";

const quick = process.argv.includes("--quick");
const soak = process.argv.includes("--soak");
// Short runs, many rounds: the VM's speed moves by up to 2× over tens of seconds, so each
// ratio is taken within a round (configurations seconds apart) and its median over rounds
// is printed. The targets are about 100 in flight: it gets the most rounds.
const seconds = quick ? 1.5 : 2;
const roundsAt: Record<number, number> = quick ? { 100: 3 } : { 10: 3, 100: 9 };
const ttfbSamples = quick ? 200 : 400;
// --quick keeps 100 in flight only: the figure the targets are about, in about four minutes.
const connectionsList = quick ? [100] : [10, 100];
const configsArg = process.argv.find((a) => a.startsWith("--configs="));
const configs = configsArg ? configsArg.slice("--configs=".length).split(",") : ["echo", "openai", "openai-redis", "anthropic", "gemini"];
/** The model each gateway configuration is asked for. */
const MODELS: Record<string, string> = { echo: "echo/echo", anthropic: "anthropic/claude-sonnet-4-6", gemini: "gemini/gemini-2.5-flash" };
const SERVER_CPU = 0;

// The servers load the built package: (re)build it when the sources are newer, so the figures are today's code.
if (distIsStale()) execFileSync("npx", ["unbuild"], { stdio: ["ignore", "ignore", "inherit"] });
const pinned = pinSelf(1);
const started: Array<{ stop(): Promise<void> }> = [];
const stopAll = () => Promise.allSettled(started.map((s) => s.stop()));
process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));

try {
  const redisPort = await freePort();
  const redis = await startCommand("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], "Ready to accept connections", SERVER_CPU);
  started.push(redis);
  const upstream = await startServer("direct", "mock-upstream.ts", {}, SERVER_CPU);
  started.push(upstream);
  const env = { UPSTREAM_URL: upstream.url, REDIS_URL: `redis://127.0.0.1:${redisPort}` };
  const forwarder = await startServer("h3-forwarder", "h3-forwarder.ts", env, SERVER_CPU);
  started.push(forwarder);
  const gateways: BenchProcess[] = [];
  for (const config of configs) {
    const gateway = await startServer(`agentgate-${config}`, "gateway.ts", { ...env, CONFIG: config }, SERVER_CPU);
    started.push(gateway);
    gateways.push(gateway);
  }

  const targets: Array<{ target: Target; server?: BenchProcess }> = [
    { target: { name: "direct", url: upstream.url, path: "/v1/chat/completions", headers: {}, model: "gpt-4o-mini", expect: "mock upstream" } },
    { target: { name: "h3-forwarder", url: forwarder.url, path: "/v1/chat/completions", headers: {}, model: "gpt-4o-mini", expect: "mock upstream" }, server: forwarder },
    ...gateways.map((gateway) => ({
      server: gateway,
      target: {
        name: gateway.name,
        url: gateway.url,
        path: "/api/v1/chat/completions",
        headers: { authorization: `Bearer ${gateway.info.key}` },
        model: MODELS[gateway.name.slice("agentgate-".length)] ?? "openai/gpt-4o-mini",
        expect: gateway.name.endsWith("echo") ? "Hello from the benchmark" : "mock upstream",
      },
    })),
    // The Messages route beside chat completions, on the same gateway processes and upstream:
    // translated to OpenAI's wire, and passed through to Anthropic's.
    ...gateways
      .filter((gateway) => gateway.name === "agentgate-openai" || gateway.name === "agentgate-anthropic")
      .map((gateway) => ({
        server: gateway,
        target: {
          name: `${gateway.name}-messages`,
          url: gateway.url,
          path: "/api/v1/messages",
          headers: { "x-api-key": String(gateway.info.key), "anthropic-version": "2023-06-01" },
          model: MODELS[gateway.name.slice("agentgate-".length)] ?? "openai/gpt-4o-mini",
          expect: "mock upstream",
          dialect: "messages" as const,
        },
      })),
  ];

  for (const { target } of targets) await checkTarget(target);
  console.log(`All ${targets.length} configurations answer correctly (plain and streamed). Load generator pinned: ${pinned}.`);

  // Warm-up: unmeasured load per configuration, plain and streamed, until it runs at its
  // steady speed (see warmUp: 5 to 10 s for the gateway, under load), so what is measured
  // is the server as it runs for days, not V8 still compiling it (the time to first byte
  // included: measured on a cold process, it timed the interpreter, not the gateway).
  const warmed: string[] = [];
  for (const { target, server } of targets) {
    for (const mode of ["json", "stream"] as const) warmed.push(`${target.name} ${mode} ${await warmUp(target, server, mode, 100, 20)} s`);
  }
  console.log(`Warmed up to a steady speed: ${warmed.join(", ")}.`);

  const ttfb: Record<string, number> = {};
  if (!soak) for (const { target } of targets) ttfb[target.name] = await measureTTFB(target, ttfbSamples);

  const runs: RunResult[] = [];
  // --soak measures memory only: the throughput rounds are skipped.
  for (const connections of soak ? [] : connectionsList) {
    for (let round = 1; round <= roundsAt[connections]; round++) {
      for (const mode of ["json", "stream"] as const) {
        // Interleaved: every configuration runs once before any runs again, in the opposite
        // order each round, so a steady drift of the machine's speed favours no one.
        for (const { target, server } of round % 2 ? targets : [...targets].reverse()) {
          // Redis shares the servers' core: its CPU per request is printed beside the gateway's.
          const result = await runLoad(target, server, mode, connections, seconds, round, target.name.endsWith("redis") ? redis.cpuMicros : undefined);
          runs.push(result);
          process.stdout.write(`  round ${round} ${mode.padEnd(6)} c=${String(connections).padEnd(3)} ${target.name.padEnd(22)} ${Math.round(result.requestsPerSecond)} req/s\n`);
        }
      }
    }
  }

  let soakResult: { samplesMB: number[]; driftPercent: number } | undefined;
  if (soak) {
    // Documents on Redis: the gateway's own memory is what is watched, not a growing in-process store.
    const gateway = targets.find((t) => t.target.name === "agentgate-openai-redis")!;
    const samplesMB: number[] = [];
    const sampler = setInterval(() => samplesMB.push(gateway.server!.rssBytes() / 1024 / 1024), 10_000);
    await runLoad(gateway.target, gateway.server, "json", 100, 300, 0);
    clearInterval(sampler);
    // Drift: the median of the last minute against the median of the first minute after warm-up
    // (RSS moves with each garbage collection, so single samples are noise).
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const firstMinute = median(samplesMB.slice(6, 12));
    const lastMinute = median(samplesMB.slice(-6));
    const driftPercent = ((lastMinute - firstMinute) / firstMinute) * 100;
    soakResult = { samplesMB, driftPercent };
  }

  const summary = summarize(runs);
  printSummary(summary, ttfb, soakResult);
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  const file = new URL(`./results/bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`, import.meta.url);
  writeFileSync(file, JSON.stringify({ machine: machine(), quick, seconds, roundsAt, runs, summary, ttfb, soak: soakResult }, null, 2));
  console.log(`\nRaw figures: ${file.pathname}`);
} finally {
  await stopAll();
}

function distIsStale(): boolean {
  const built = statSync(new URL("../dist/index.mjs", import.meta.url), { throwIfNoEntry: false });
  if (!built) return true;
  const newest = (dir: URL): number =>
    Math.max(...readdirSync(dir, { withFileTypes: true }).map((entry) => (entry.isDirectory() ? newest(new URL(`${entry.name}/`, dir)) : statSync(new URL(entry.name, dir)).mtimeMs)));
  return ["../src/", "../adapters/"].some((dir) => newest(new URL(dir, import.meta.url)) > built.mtimeMs);
}

function machine() {
  return { node: process.version, cpus: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency, platform: process.platform, arch: process.arch };
}
