import { anthropic, openai } from "../../src/index";
import { startAnthropicFake } from "../fakes/anthropic";
import type { FakeUpstream } from "../fakes/_server";
import { startOpenAIFake } from "../fakes/openai";
import { seedAgent, startGateway, type TestGateway } from "../_setup";

/** A gateway over fake OpenAI and Anthropic upstreams (no retries), with one seeded agent. */
export interface MessagesGateway {
  fakes: { openai: FakeUpstream; anthropic: FakeUpstream };
  t: TestGateway;
  key: string;
  accountId: string;
  close(): Promise<void>;
}

export async function startMessagesGateway(): Promise<MessagesGateway> {
  const fakes = { openai: await startOpenAIFake(), anthropic: await startAnthropicFake() };
  const t = await startGateway({
    providers: [openai({ apiKey: fakes.openai.apiKey, baseURL: fakes.openai.baseURL }), anthropic({ apiKey: fakes.anthropic.apiKey, baseURL: fakes.anthropic.baseURL })],
    upstream: { retries: 0 },
  });
  const { key, accountId } = await seedAgent(t.gateway);
  return {
    fakes,
    t,
    key,
    accountId,
    close: async () => {
      await t.close();
      await Promise.all(Object.values(fakes).map((fake) => fake.close()));
    },
  };
}
