import { describe, expect, it } from "vitest";
import type { RunResult } from "../../bench/lib/load";
import { checkTargets, summarize } from "../../bench/lib/report";

/** One measured run, as runLoad reports it. */
const run = (config: string, round: number, requestsPerSecond: number, mode: "json" | "stream" = "json"): RunResult => ({
  config,
  mode,
  connections: 100,
  round,
  requestsPerSecond,
  p50Ms: 1,
  p99Ms: 2,
  errors: 0,
  non2xx: 0,
  cpuMicrosPerRequest: 1e6 / requestsPerSecond,
  sideCpuMicrosPerRequest: null,
  rssMB: 100,
});

describe("the bench summary", () => {
  it("pairs each round's ratio with the peer's figure from the same round, so the machine's drift between rounds cancels", () => {
    // The machine is twice as fast in round 2; the gateway is 1.3× the forwarder in every round.
    const runs = [run("h3-forwarder", 1, 1000), run("agentgate-openai", 1, 1300), run("h3-forwarder", 2, 2000), run("agentgate-openai", 2, 2600), run("h3-forwarder", 3, 1000), run("agentgate-openai", 3, 1300)];
    const row = summarize(runs).find((r) => r.config === "agentgate-openai")!;
    expect(row.vsForwarder).toEqual({ median: 1.3, low: 1.3, high: 1.3, rounds: 3 });
    expect(row.requestsPerSecond).toBe(1300);
  });

  it("takes the median of the rounds, so one slowed round does not decide a ratio", () => {
    const runs = [
      ...[1, 2, 3, 4, 5].map((round) => run("agentgate-openai", round, 1000)),
      ...[1, 2, 3, 4, 5].map((round) => run("agentgate-gemini", round, round === 2 ? 400 : 950)),
    ];
    const gemini = summarize(runs).find((r) => r.config === "agentgate-gemini")!;
    expect(gemini.vsOpenAI).toEqual({ median: 0.95, low: 0.4, high: 0.95, rounds: 5 });
  });

  it("leaves out a round whose peer is missing, and averages the middle two of an even count", () => {
    const runs = [run("h3-forwarder", 1, 1000), run("h3-forwarder", 2, 1000), run("agentgate-openai", 1, 1100), run("agentgate-openai", 2, 1300), run("agentgate-openai", 3, 5000)];
    const ratio = summarize(runs).find((r) => r.config === "agentgate-openai")!.vsForwarder!;
    expect(ratio.median).toBeCloseTo(1.2, 9);
    expect(ratio).toMatchObject({ low: 1.1, high: 1.3, rounds: 2 });
  });

  it("checks each throughput target against its paired median, and names the ones not met", () => {
    const runs = [1, 2, 3].flatMap((round) => [
      run("h3-forwarder", round, 1000),
      run("h3-forwarder", round, 1000, "stream"),
      run("agentgate-openai", round, 1250),
      run("agentgate-openai", round, 790, "stream"),
      run("agentgate-openai-redis", round, 1000),
      run("agentgate-gemini", round, 1000),
    ]);
    const verdicts = Object.fromEntries(checkTargets(summarize(runs)).map((v) => [v.target, v.met]));
    expect(verdicts).toEqual({
      "openai JSON ≥ 1.2× forwarder": true,
      "openai stream ≥ 0.8× forwarder": false,
      "openai-redis JSON ≥ 1.0× forwarder": true,
      // 1000 / 1250 = 0.8: more than 15 % below openai.
      "gemini JSON ≥ 0.85× openai": false,
    });
  });
});
