import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { toNodeListener } from "../adapters/node";
import { createGateway, echo, type ChatCompletion, type Gateway, type GatewayOptions } from "../src/index";

export const ADMIN_SECRET = "test-admin-secret-that-is-long-enough";

/** A gateway served by a real node:http server on an ephemeral port. */
export interface TestGateway {
  gateway: Gateway;
  server: Server;
  origin: string;
  /** `${origin}/api/v1`, what an OpenAI SDK takes as baseURL. */
  baseURL: string;
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions = {}): Promise<TestGateway> {
  const gateway = createGateway({ admin: { secret: ADMIN_SECRET }, providers: [echo()], ...options });
  const server = createServer(toNodeListener(gateway));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    gateway,
    server,
    origin,
    baseURL: `${origin}/api/v1`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await gateway.close();
    },
  };
}

/** An account with an agent, a key and (by default) some credit. */
export async function seedAgent(gateway: Gateway, options: { accountId?: string; creditMicros?: number; agent?: Parameters<Gateway["admin"]["createAgent"]>[1] } = {}) {
  const accountId = options.accountId ?? `acct_${Math.random().toString(36).slice(2)}`;
  const agent = await gateway.admin.createAgent(accountId, options.agent ?? { name: "Test agent" });
  const key = await gateway.admin.createKey(accountId, agent.id, { name: "test key" });
  const credit = options.creditMicros ?? 10_000_000;
  if (credit > 0) await gateway.admin.credit(accountId, credit);
  return { accountId, agent, key: key.key, keyId: key.id };
}

/** The official openai SDK pointed at a test gateway; no SDK retries, so tests see each status. */
export function openaiClient(baseURL: string, apiKey: string, options: { maxRetries?: number } = {}): OpenAI {
  return new OpenAI({ apiKey, baseURL, maxRetries: options.maxRetries ?? 0 });
}

/** A custom provider's whole answer: `content` as the assistant's text, with the usage it reports. */
export function textCompletion(content: string, usage: { prompt_tokens: number; completion_tokens: number }): ChatCompletion {
  return {
    id: "x",
    object: "chat.completion",
    created: 0,
    model: "model",
    choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, finish_reason: "stop", logprobs: null }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}
