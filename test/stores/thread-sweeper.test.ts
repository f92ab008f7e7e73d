import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createFsStorage } from "../../src/fs";
import { createGateway, echo } from "../../src/index";
import { ADMIN_SECRET, seedAgent } from "../_setup";

describe("a gateway's thread sweeper", () => {
  it("deletes threads idle past their time to live from storage, index and all, and keeps the live ones", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agentgate-sweeper-"));
    const storage = createFsStorage({ dir });
    const gateway = createGateway({ admin: { secret: ADMIN_SECRET }, providers: [echo()], storage, threads: { ttlSeconds: 1, sweepIntervalMs: 300 }, logger: { warn() {}, error() {} } });
    const chat = (key: string, extra: Record<string, unknown> = {}) =>
      gateway.fetch(
        new Request("http://gateway.test/api/v1/chat/completions", {
          method: "POST",
          headers: { authorization: `Bearer ${key}` },
          body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hi" }], ...extra }),
        }),
      );
    try {
      const { key } = await seedAgent(gateway);
      for (let i = 0; i < 3; i++) expect((await chat(key)).status).toBe(200);
      expect(await storage.getKeys("threads:")).toHaveLength(3);
      expect(await storage.getKeys("agent-threads:")).toHaveLength(3);
      await expect.poll(async () => (await storage.getKeys("threads:")).length, { timeout: 5_000 }).toBe(0);
      expect(await storage.getKeys("agent-threads:")).toEqual([]);
      // A thread kept busy outlives the sweeps around it.
      const live = (await chat(key)).headers.get("x-thread-id")!;
      for (let i = 0; i < 4; i++) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect((await chat(key, { thread_id: live })).status).toBe(200);
      }
      expect((await storage.getKeys("threads:")).some((k) => k.endsWith(`:${live}`))).toBe(true);
    } finally {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("never sweeps a thread a request is answering on, so its saved turn keeps its index entry and is swept once idle", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agentgate-sweeper-"));
    const storage = createFsStorage({ dir });
    const gateway = createGateway({ providers: [echo({ delayMs: 80 })], storage, threads: { ttlSeconds: 2, sweepIntervalMs: 200 }, logger: { warn() {}, error() {} } });
    const chat = (key: string, body: Record<string, unknown>) =>
      gateway.fetch(new Request("http://gateway.test/api/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model: "echo/echo", ...body }) }));
    try {
      const { key } = await seedAgent(gateway);
      const threadId = (await chat(key, { messages: [{ role: "user", content: "hi" }] })).headers.get("x-thread-id")!;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      // Streams for about 1.6 s: its thread passes its time to live while it answers, under sweeps every 200 ms.
      const streamed = await chat(key, { thread_id: threadId, stream: true, messages: [{ role: "user", content: "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty" }] });
      expect(streamed.status).toBe(200);
      expect(await streamed.text()).toContain("[DONE]");
      const saved = async () => ({ doc: (await storage.getKeys("threads:")).some((k) => k.endsWith(threadId)), index: (await storage.getKeys("agent-threads:")).some((k) => k.endsWith(threadId)) });
      expect(await saved()).toEqual({ doc: true, index: true });
      // Idle now: swept whole, document and index.
      await expect.poll(saved, { timeout: 8_000 }).toEqual({ doc: false, index: false });
    } finally {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
