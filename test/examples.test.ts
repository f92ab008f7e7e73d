import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { openaiClient } from "./_setup";

describe("the README's quick start", () => {
  let close: (() => Promise<void>) | undefined;
  afterAll(() => close?.());

  it("runs as written and answers the openai SDK", async () => {
    process.env.PORT = "0";
    const logs: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => void logs.push(args.join(" "));
    const { gateway, server } = await import("../examples/quick-start");
    console.log = log;
    close = async () => {
      server.close();
      await gateway.close();
    };
    await new Promise((resolve) => (server.listening ? resolve(undefined) : server.once("listening", resolve)));
    const key = /OPENAI_API_KEY=(a2a_\w+)/.exec(logs.join("\n"))![1];
    const client = openaiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`, key);
    const reply = await client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "Hello, Ada" }] });
    expect(reply.choices[0].message.content).toBe("Hello, Ada");
  });
});
