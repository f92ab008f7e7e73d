import { request, Agent } from "node:http";
import autocannon from "autocannon";
import type { BenchProcess } from "./processes";
import { body, type Target } from "./requests";

/** One measured run of one configuration. */
export interface RunResult {
  config: string;
  mode: "json" | "stream";
  connections: number;
  round: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** CPU of the server process per completed request (µs); null for the direct upstream. */
  cpuMicrosPerRequest: number | null;
  /** CPU of a process the server relies on (Redis, on the servers' core) per completed request (µs). */
  sideCpuMicrosPerRequest: number | null;
  rssMB: number | null;
}

/** Drives `connections` requests in flight for `seconds` and reads the server's CPU around it. */
export async function runLoad(target: Target, server: BenchProcess | undefined, mode: "json" | "stream", connections: number, seconds: number, round: number, sideCpu?: () => number): Promise<RunResult> {
  const cpuBefore = server?.cpuMicros();
  const sideBefore = sideCpu?.();
  const result = await autocannon({
    url: target.url + target.path,
    method: "POST",
    connections,
    duration: seconds,
    headers: { "content-type": "application/json", ...target.headers },
    body: body(target, mode === "stream"),
  });
  const completed = result["2xx"];
  const cpu = server && cpuBefore !== undefined ? server.cpuMicros() - cpuBefore : undefined;
  return {
    config: target.name,
    mode,
    connections,
    round,
    requestsPerSecond: completed / (result.duration || seconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    cpuMicrosPerRequest: cpu !== undefined && completed > 0 ? cpu / completed : null,
    sideCpuMicrosPerRequest: sideCpu && sideBefore !== undefined && completed > 0 ? (sideCpu() - sideBefore) / completed : null,
    rssMB: server ? server.rssBytes() / 1024 / 1024 : null,
  };
}

/** Median time to the first byte of a streamed answer, one request at a time, over keep-alive. */
export async function measureTTFB(target: Target, samples: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(target.url + target.path);
  const payload = body(target, true);
  const times: number[] = [];
  for (let i = 0; i < samples + 20; i++) {
    const elapsed = await new Promise<number>((resolve, reject) => {
      const started = process.hrtime.bigint();
      const req = request(
        { agent, host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...target.headers } },
        (res) => {
          let first: number | undefined;
          res.on("data", () => (first ??= Number(process.hrtime.bigint() - started) / 1e6));
          res.on("end", () => resolve(first ?? Number.NaN));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
    if (i >= 20) times.push(elapsed); // the first 20 warm the JIT and the sockets
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Loads a configuration in 1 s slices at `connections` in flight until it runs at its
 * steady speed: the CPU per request of the last three slices within 20 % of their
 * median (at least 4 slices, at most `maxSeconds`). A Node server needs seconds of load
 * before V8 has optimised its hot path and its heap has grown to its working size;
 * measured before that, a larger code path (the gateway) looks slower against a smaller
 * one (the forwarder) than it runs. Returns the seconds it took.
 */
export async function warmUp(target: Target, server: BenchProcess | undefined, mode: "json" | "stream", connections: number, maxSeconds: number): Promise<number> {
  const costs: number[] = [];
  for (let second = 1; second <= maxSeconds; second++) {
    const slice = await runLoad(target, server, mode, connections, 1, 0);
    // The upstream alone has no CPU figure here: its speed is what settles.
    costs.push(slice.cpuMicrosPerRequest ?? 1e6 / Math.max(1, slice.requestsPerSecond));
    const last = costs.slice(-3).sort((a, b) => a - b);
    if (second >= 4 && last[2] <= last[1] * 1.2 && last[0] >= last[1] * 0.8) return second;
  }
  return maxSeconds;
}
