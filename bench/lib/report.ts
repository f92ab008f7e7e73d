import type { RunResult } from "./load";

/** A ratio between two configurations: the median of its per-round values, and their spread. */
export interface PairedRatio {
  median: number;
  low: number;
  high: number;
  rounds: number;
}

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
  /**
   * Ratios of req/s, paired by round: each round's figure against the peer's in the same
   * round (seconds apart), then the median over rounds. The VM's speed moves by up to 2×
   * over tens of seconds; a ratio of medians taken from different rounds measures that
   * drift, a paired ratio cancels most of it.
   */
  vsForwarder: PairedRatio | null;
  vsDirect: PairedRatio | null;
  /** Against the `openai` configuration: the other vendors' wires should cost about the same. */
  vsOpenAI: PairedRatio | null;
}

export function summarize(runs: RunResult[]): SummaryRow[] {
  const groups = new Map<string, RunResult[]>();
  for (const run of runs) {
    const key = groupKey(run.config, run.mode, run.connections);
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const paired = (group: RunResult[], peerConfig: string): PairedRatio | null => {
    const { mode, connections } = group[0];
    const peer = groups.get(groupKey(peerConfig, mode, connections));
    if (!peer) return null;
    const ratios = group.flatMap((run) => {
      const other = peer.find((p) => p.round === run.round);
      return other && other.requestsPerSecond > 0 ? [run.requestsPerSecond / other.requestsPerSecond] : [];
    });
    return ratios.length ? { median: median(ratios), low: Math.min(...ratios), high: Math.max(...ratios), rounds: ratios.length } : null;
  };
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
      vsForwarder: paired(group, "h3-forwarder"),
      vsDirect: paired(group, "direct"),
      vsOpenAI: config.startsWith("agentgate-") ? paired(group, "agentgate-openai") : null,
    });
  }
  return rows;
}

/** One of the wire-speed targets, checked against a summary. */
export interface TargetVerdict {
  target: string;
  ratio: PairedRatio | null;
  met: boolean;
}

/**
 * The throughput targets (100 in flight): `openai` JSON ≥ 1.2× the forwarder and streamed
 * ≥ 0.8×, `openai` + Redis JSON ≥ 1.0×, `anthropic` and `gemini` within 15 % of `openai`.
 */
export function checkTargets(rows: SummaryRow[]): TargetVerdict[] {
  const row = (config: string, mode: string) => rows.find((r) => r.config === config && r.mode === mode && r.connections === 100);
  const verdict = (target: string, ratio: PairedRatio | null | undefined, atLeast: number): TargetVerdict => ({ target, ratio: ratio ?? null, met: !!ratio && ratio.median >= atLeast });
  const verdicts = [
    verdict("openai JSON ≥ 1.2× forwarder", row("agentgate-openai", "json")?.vsForwarder, 1.2),
    verdict("openai stream ≥ 0.8× forwarder", row("agentgate-openai", "stream")?.vsForwarder, 0.8),
    verdict("openai-redis JSON ≥ 1.0× forwarder", row("agentgate-openai-redis", "json")?.vsForwarder, 1.0),
  ];
  for (const vendor of ["anthropic", "gemini"]) {
    for (const mode of ["json", "stream"]) verdicts.push(verdict(`${vendor} ${mode === "json" ? "JSON" : "stream"} ≥ 0.85× openai`, row(`agentgate-${vendor}`, mode)?.vsOpenAI, 0.85));
  }
  // A configuration left out with --configs has no verdict.
  return verdicts.filter((v) => v.ratio !== null);
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
    formatRatio(r.vsForwarder),
    formatRatio(r.vsDirect),
    formatRatio(r.vsOpenAI),
    String(r.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  // --soak runs no throughput rounds: no table.
  if (lines.length) {
    console.log(`\n${row(header)}\n|${widths.map((w, i) => (i < 2 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`);
    for (const line of lines) console.log(row(line));
    console.log("Ratios: the median over rounds of each round's req/s against the peer's in the same round.");
  }

  const onRedis = rows.filter((r) => r.redisCpuMicrosPerRequest !== null);
  if (onRedis.length) {
    console.log("\nRedis server CPU per request (on the servers' core, beside the gateway's own):");
    for (const r of onRedis) console.log(`  ${r.config} ${r.mode} ${r.connections} in flight: ${Math.round(r.redisCpuMicrosPerRequest!)} µs`);
  }

  if (Object.keys(ttfb).length) console.log("\nTime to first byte of a stream, 1 in flight (median):");
  for (const [name, ms] of Object.entries(ttfb)) {
    const added = ttfb.direct !== undefined && name !== "direct" ? ` (+${(ms - ttfb.direct).toFixed(2)} ms over direct)` : "";
    console.log(`  ${name.padEnd(22)} ${ms.toFixed(2)} ms${added}`);
  }

  const verdictLines = checkTargets(rows).map(
    (v) => `  ${v.met ? "met    " : "NOT met"} ${v.target.padEnd(36)} ${v.ratio!.median.toFixed(2)}× (${v.ratio!.low.toFixed(2)}–${v.ratio!.high.toFixed(2)}, ${v.ratio!.rounds} rounds)`,
  );
  if (ttfb.direct !== undefined && ttfb["agentgate-openai"] !== undefined) {
    const added = ttfb["agentgate-openai"] - ttfb.direct;
    verdictLines.push(`  ${added <= 1 ? "met    " : "NOT met"} ${"openai TTFB ≤ 1.0 ms over direct".padEnd(36)} +${added.toFixed(2)} ms (1 in flight)`);
  }
  if (verdictLines.length) console.log(`\nTargets (throughput at 100 in flight: the median of the rounds, lowest–highest round):\n${verdictLines.join("\n")}`);
  if (soak) {
    console.log(`\nRSS over the 5-minute soak (MB, every 10 s): ${soak.samplesMB.map((m) => m.toFixed(0)).join(" ")}`);
    console.log(`Drift, last minute against the first minute after warm-up (medians): ${soak.driftPercent.toFixed(1)} %`);
  }
}

// --- internal ---

function groupKey(config: string, mode: string, connections: number): string {
  return `${config}|${mode}|${connections}`;
}

function formatRatio(ratio: PairedRatio | null): string {
  return ratio === null ? "–" : `${ratio.median.toFixed(2)}×`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  // An even count (a round whose peer is missing) takes the mean of the middle two.
  return sorted.length % 2 ? sorted[Math.floor(middle)] : (sorted[middle - 1] + sorted[middle]) / 2;
}
