// agentgate in one of the bench configurations (CONFIG=echo | openai | openai-redis).
// Prints READY {port, key}; the key belongs to a seeded agent with a large balance.
import { createServer } from "node:http";
import { createStorage } from "unstorage";
import { toNodeListener } from "../../adapters/node";
import { createGateway, echo, type GatewayOptions, type Provider } from "../../src/index";

const config = process.env.CONFIG ?? "echo";
const providers: Provider[] = [echo()];
const options: GatewayOptions = {
  // Limits high enough never to bite, so the rate step does its full work.
  limits: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000 },
  threads: { maxMessages: 20 },
  logger: { warn: () => {}, error: (message) => console.error(message) },
};
if (config.startsWith("openai")) {
  const { openai } = await import("../../src/providers/openai");
  providers.push(openai({ apiKey: "sk-bench", baseURL: `${process.env.UPSTREAM_URL}/v1` }));
}
if (config.endsWith("redis")) {
  const { createRedisAtomics } = await import("../../src/stores/redis-atomics");
  const { default: redisDriver } = await import("unstorage/drivers/redis");
  options.storage = createStorage({ driver: redisDriver({ url: process.env.REDIS_URL!, base: `bench-${process.pid}` }) });
  options.atomics = createRedisAtomics({ redis: process.env.REDIS_URL!, prefix: `bench-${process.pid}` });
}
const gateway = createGateway({ ...options, providers });
const agent = await gateway.admin.createAgent("acct_bench", { name: "Bench agent", instructions: "Answer briefly." });
const { key } = await gateway.admin.createKey("acct_bench", agent.id, { name: "bench" });
await gateway.admin.credit("acct_bench", 1_000_000_000_000);

const server = createServer(toNodeListener(gateway));
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(`READY ${JSON.stringify({ port: (server.address() as { port: number }).port, key })}`));
