import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, describe, expect, it } from "vitest";
import { startPlayground, type RunningPlayground } from "./_server";

describe("the README's playground command, npm start", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentgate-playground-"));
  let playground: RunningPlayground | undefined;
  afterAll(async () => {
    await playground?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("prints a demo key that the openai SDK can use at once, and keeps it across restarts", async () => {
    playground = await startPlayground(dataDir);
    expect(playground.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const key = playground.demoKey!;
    expect(key).toMatch(/^a2a_[A-Za-z0-9]{36,}$/);
    const client = () => new OpenAI({ apiKey: key, baseURL: `${playground!.origin}/api/v1`, maxRetries: 0 });
    const reply = await client().chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "Hello, playground" }] });
    expect(reply.choices[0].message.content).toBe("Hello, playground");

    // Second start on the same DATA_DIR: no new key is printed, the first one still works.
    await playground.stop();
    playground = await startPlayground(dataDir);
    expect(playground.demoKey).toBeUndefined();
    expect(playground.output()).not.toContain(key);
    const again = await client().chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "Still here?" }] });
    expect(again.choices[0].message.content).toBe("Still here?");
  });

  it("prints a localhost URL, which opens the page, when HOST=0.0.0.0", async () => {
    await playground?.stop();
    playground = await startPlayground(dataDir, { HOST: "0.0.0.0" });
    expect(playground.origin).toMatch(/^http:\/\/localhost:\d+$/);
    expect(playground.output()).not.toContain("0.0.0.0");
    const page = await fetch(playground.origin);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("agentgate playground");
  });
});
