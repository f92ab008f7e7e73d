import type { RunResult } from "./load";

/** The median of every figure over the rounds, per configuration, mode and concurrency. */
export interface SummaryRow {
  config: string;
  mode: string;
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuMicrosPerRequest: number | null;
  /** Redis's CPU per request, for the configurations on Redis. */
  redisCpuMicrosPerRequest: number | null;
  rssMB: number | null;
  errors: number;
  vsForwarder: number | null;
  vsDirect: number | null;
  /** Against the `openai` configuration: the other vendors' wires should cost about the same. */
  vsOpenAI: number | null;
}

export function summarize(runs: RunResult[], _ttfb: Record<string, number>): SummaryRow[] {
  const groups = new Map<string, RunResult[]>();
  for (const run of runs) {
    const key = `${run.config}|${run.mode}|${run.connections}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const rows: SummaryRow[] = [];
  for (const group of groups.values()) {
    const { config, mode, connections } = group[0];
    rows.push({
      config,
      mode,
      connections,
      requestsPerSecond: median(group.map((r) => r.requestsPerSecond)),
      p50Ms: median(group.map((r) => r.p50Ms)),
      p99Ms: median(group.map((r) => r.p99Ms)),
      cpuMicrosPerRequest: group[0].cpuMicrosPerRequest === null ? null : median(group.map((r) => r.cpuMicrosPerRequest ?? 0)),
      redisCpuMicrosPerRequest: group[0].sideCpuMicrosPerRequest == null ? null : median(group.map((r) => r.sideCpuMicrosPerRequest ?? 0)),
      rssMB: group[0].rssMB === null ? null : Math.max(...group.map((r) => r.rssMB ?? 0)),
      errors: group.reduce((sum, r) => sum + r.errors + r.non2xx, 0),
      vsForwarder: null,
      vsDirect: null,
      vsOpenAI: null,
    });
  }
  for (const row of rows) {
    const peer = (config: string) => rows.find((r) => r.config === config && r.mode === row.mode && r.connections === row.connections);
    const forwarder = peer("h3-forwarder");
    const direct = peer("direct");
    row.vsForwarder = forwarder ? row.requestsPerSecond / forwarder.requestsPerSecond : null;
    row.vsDirect = direct ? row.requestsPerSecond / direct.requestsPerSecond : null;
    const openai = peer("agentgate-openai");
    row.vsOpenAI = openai && row.config.startsWith("agentgate-") ? row.requestsPerSecond / openai.requestsPerSecond : null;
  }
  return rows;
}

export function printSummary(rows: SummaryRow[], ttfb: Record<string, number>, soak?: { samplesMB: number[]; driftPercent: number }): void {
  const header = ["config", "mode", "in flight", "req/s", "p50 ms", "p99 ms", "CPU µs/req", "RSS MB", "× h3 fwd", "× direct", "× openai", "errors"];
  const lines = rows.map((r) => [
    r.config,
    r.mode,
    String(r.connections),
    String(Math.round(r.requestsPerSecond)),
    r.p50Ms.toFixed(1),
    r.p99Ms.toFixed(1),
    r.cpuMicrosPerRequest === null ? "–" : String(Math.round(r.cpuMicrosPerRequest)),
    r.rssMB === null ? "–" : r.rssMB.toFixed(0),
    r.vsForwarder === null ? "–" : `${r.vsForwarder.toFixed(2)}×`,
    r.vsDirect === null ? "–" : `${r.vsDirect.toFixed(2)}×`,
    r.vsOpenAI === null ? "–" : `${r.vsOpenAI.toFixed(2)}×`,
    String(r.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  console.log(`\n${row(header)}\n|${widths.map((w, i) => (i < 2 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const line of lines) console.log(row(line));

  const onRedis = rows.filter((r) => r.redisCpuMicrosPerRequest !== null);
  if (onRedis.length) {
    console.log("\nRedis server CPU per request (on the servers' core, beside the gateway's own):");
    for (const r of onRedis) console.log(`  ${r.config} ${r.mode} ${r.connections} in flight: ${Math.round(r.redisCpuMicrosPerRequest!)} µs`);
  }

  console.log("\nTime to first byte of a stream, 1 in flight (median):");
  for (const [name, ms] of Object.entries(ttfb)) {
    const added = ttfb.direct !== undefined && name !== "direct" ? ` (+${(ms - ttfb.direct).toFixed(2)} ms over direct)` : "";
    console.log(`  ${name.padEnd(22)} ${ms.toFixed(2)} ms${added}`);
  }
  if (soak) {
    console.log(`\nRSS over the 5-minute soak (MB, every 10 s): ${soak.samplesMB.map((m) => m.toFixed(0)).join(" ")}`);
    console.log(`Drift, last minute against the first minute after warm-up (medians): ${soak.driftPercent.toFixed(1)} %`);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
