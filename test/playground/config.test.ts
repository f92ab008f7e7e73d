import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createPlaygroundGateway } from "../../playground/app";
import { browserURL, readConfig } from "../../playground/config";
import { seedPlayground } from "../../playground/seed";

describe("the playground's environment", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentgate-playground-config-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("defaults to 60 requests and 200,000 tokens a minute and a 120 s upstream timeout", () => {
    expect(readConfig({ DATA_DIR: dataDir })).toMatchObject({ requestsPerMinute: 60, tokensPerMinute: 200_000, upstreamTimeoutMs: 120_000, storage: "fs", port: 3000, host: "127.0.0.1" });
  });

  it("prints a URL a browser can open: localhost for a wildcard HOST, brackets around IPv6", () => {
    expect(browserURL("127.0.0.1", 3000)).toBe("http://127.0.0.1:3000");
    expect(browserURL("0.0.0.0", 3998)).toBe("http://localhost:3998");
    expect(browserURL("::", 3998)).toBe("http://localhost:3998");
    expect(browserURL("::1", 3000)).toBe("http://[::1]:3000");
    expect(browserURL("my-box.lan", 80)).toBe("http://my-box.lan:80");
  });

  it("refuses a limit that is not a whole number, naming the variable", () => {
    expect(() => readConfig({ DATA_DIR: dataDir, REQUESTS_PER_MINUTE: "lots" })).toThrow(/REQUESTS_PER_MINUTE/);
  });

  it("applies REQUESTS_PER_MINUTE to each agent, and 0 turns it off", async () => {
    const send = async (env: Record<string, string>, count: number) => {
      const gateway = await createPlaygroundGateway(readConfig({ DATA_DIR: dataDir, STORAGE: "memory", ...env }));
      const { key } = await seedPlayground(gateway);
      const statuses: number[] = [];
      for (let i = 0; i < count; i++) {
        const res = await gateway.fetch(new Request("http://playground/api/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hi" }] }) }));
        statuses.push(res.status);
        await res.text();
      }
      await gateway.close();
      return statuses;
    };
    expect(await send({ REQUESTS_PER_MINUTE: "2" }, 3)).toEqual([200, 200, 429]);
    expect(await send({ REQUESTS_PER_MINUTE: "0" }, 70)).not.toContain(429);
  });
});
