import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MAX_OUTPUT_TOKENS, defineProvider, echo, type ProviderRequest } from "../../src/index";
import { seedAgent, startGateway, textCompletion, type TestGateway } from "../_setup";

// 1 micro-USD per input token, 2 per output token.
const PRICE = { inputPerMTok: 1, outputPerMTok: 2 };

describe("what the hold covers", () => {
  let t: TestGateway;
  const seen: ProviderRequest[] = [];
  // A priced model whose output maximum nobody told the catalog.
  const open = defineProvider({
    id: "open",
    models: { "open/model": PRICE },
    chat(request) {
      seen.push(request);
      return textCompletion("ok", { prompt_tokens: 10, completion_tokens: 1 });
    },
  });

  beforeAll(async () => {
    t = await startGateway({
      providers: [echo(), open],
      models: { "echo/echo": { ...PRICE, maxOutputTokens: 50 } },
      limits: { tokensPerMinute: 1_000_000 },
    });
  });
  afterAll(() => t.close());

  const chat = (key: string, body: Record<string, unknown>) =>
    fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model: "echo/echo", ...body }) });
  const heldTokens = (res: Response) => 1_000_000 - Number(res.headers.get("x-ratelimit-remaining-tokens"));

  it("counts the tool definitions, so a small balance cannot buy a prompt of huge tools", async () => {
    const seeded = await seedAgent(t.gateway, { creditMicros: 1000 });
    const tools = [{ type: "function", function: { name: "lookup", description: "x".repeat(8000), parameters: { type: "object" } } }];
    const res = await chat(seeded.key, { tools, messages: [{ role: "user", content: "hi" }] });
    expect(res.status).toBe(402);
    expect(await t.gateway.admin.getBilling(seeded.accountId)).toEqual({ balance_micros: 1000, reserved_micros: 0 });
  });

  it("counts an image part at what a vendor may bill for it, and other scripts by their bytes", async () => {
    // A fresh agent each: its token window shows exactly what this one request was held for.
    const first = await seedAgent(t.gateway, { creditMicros: 10_000_000 });
    const image = await chat(first.key, { messages: [{ role: "user", content: [{ type: "text", text: "hi" }, { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }] }] });
    expect(image.status).toBe(200);
    expect(heldTokens(image)).toBeOneOf([4 + 1 + 1600, 4 + 1 + 1600 - 1]);
    // 300 CJK characters are 900 UTF-8 bytes: 225 tokens, not the 75 that characters / 4 would say.
    const second = await seedAgent(t.gateway, { creditMicros: 10_000_000 });
    const cjk = await chat(second.key, { messages: [{ role: "user", content: "字".repeat(300) }] });
    expect(heldTokens(cjk)).toBeOneOf([4 + 225, 4 + 225 - 1]);
  });

  it("sends the output limit its hold covers to a priced model whose maximum is unknown, and holds what a request asks beyond it", async () => {
    const seeded = await seedAgent(t.gateway, { creditMicros: 40_000 });
    const capped = await chat(seeded.key, { model: "open/model", messages: [{ role: "user", content: "hi" }] });
    expect(capped.status).toBe(200);
    expect(seen.at(-1)!.max_tokens).toBe(DEFAULT_MAX_OUTPUT_TOKENS);
    // Asked for 30,000 output tokens: 60,000 micro-USD at worst, more than the balance.
    const asked = await chat(seeded.key, { model: "open/model", max_tokens: 30_000, messages: [{ role: "user", content: "hi" }] });
    expect(asked.status).toBe(402);
    expect(seen).toHaveLength(1);
  });
});
