// agentgate in one of the bench configurations (CONFIG=echo | openai | openai-redis | anthropic | gemini).
// Prints READY {port, key}; the key belongs to a seeded agent with a large balance.
import { createServer } from "node:http";
// The built package (npm run build), as users run it: no TypeScript transform in the measurement.
import { toNodeListener } from "../../dist/adapters/node.mjs";
import { anthropic, createGateway, echo, gemini, openai, type GatewayOptions, type Provider } from "../../dist/index.mjs";

const config = process.env.CONFIG ?? "echo";
const providers: Provider[] = [echo()];
const options: GatewayOptions = {
  // Limits high enough never to bite, so the rate step does its full work.
  limits: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000 },
  threads: { maxMessages: 20 },
  logger: { warn: () => {}, error: (message) => console.error(message) },
};
if (config.startsWith("openai")) {
  providers.push(openai({ apiKey: "sk-bench", baseURL: `${process.env.UPSTREAM_URL}/v1` }));
}
// The same mock upstream answers Anthropic's and Gemini's wire formats too.
if (config === "anthropic") providers.push(anthropic({ apiKey: "sk-ant-bench", baseURL: process.env.UPSTREAM_URL }));
if (config === "gemini") providers.push(gemini({ apiKey: "gemini-bench", baseURL: process.env.UPSTREAM_URL }));
if (config.endsWith("redis")) {
  // Documents and atomics both on Redis, as `createGateway({ redis })` sets them up.
  options.redis = process.env.REDIS_URL!;
  options.redisPrefix = `bench-${process.pid}:`;
}
const gateway = createGateway({ ...options, providers });
const agent = await gateway.admin.createAgent("acct_bench", { name: "Bench agent", instructions: "Answer briefly." });
const { key } = await gateway.admin.createKey("acct_bench", agent.id, { name: "bench" });
await gateway.admin.credit("acct_bench", 1_000_000_000_000);

const server = createServer(toNodeListener(gateway));
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(`READY ${JSON.stringify({ port: (server.address() as { port: number }).port, key })}`));
