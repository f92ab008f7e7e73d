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
  rssMB: number | null;
}

/** Drives `connections` requests in flight for `seconds` and reads the server's CPU around it. */
export async function runLoad(target: Target, server: BenchProcess | undefined, mode: "json" | "stream", connections: number, seconds: number, round: number): Promise<RunResult> {
  const cpuBefore = server?.cpuMicros();
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
