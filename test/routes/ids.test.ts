import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStorage } from "unstorage";
import fsDriver from "unstorage/drivers/fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAdminToken } from "../../src/admin/token";
import { ADMIN_SECRET, seedAgent, startGateway, type TestGateway } from "../_setup";

// The fs driver refuses keys with `..`: such ids must read as unknown, not as a storage outage.
const ODD_IDS = ["../../admin-secret", "..", "a:b", "x?y", "%41"];

describe("ids from a URL or a body", () => {
  let t: TestGateway;
  let dir: string;
  let s: Awaited<ReturnType<typeof seedAgent>>;
  let token: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "agentgate-ids-"));
    t = await startGateway({ storage: createStorage({ driver: fsDriver({ base: dir }) }) });
    s = await seedAgent(t.gateway);
    token = await signAdminToken(ADMIN_SECRET, s.accountId, { expiresIn: "1h" });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 404 thread_not_found, not 503, for a thread id no storage driver accepts", async () => {
    for (const id of ODD_IDS) {
      const chat = await fetch(`${t.baseURL}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${s.key}` },
        body: JSON.stringify({ model: "echo/echo", thread_id: id, messages: [{ role: "user", content: "hi" }] }),
      });
      expect(chat.status).toBe(404);
      expect((await chat.json()).error.code).toBe("thread_not_found");
      if (id === "..") continue; // as a whole path segment, URL parsing resolves it (even as %2E%2E)
      const read = await fetch(`${t.baseURL}/threads/${encodePath(id)}`, { headers: { authorization: `Bearer ${s.key}` } });
      expect(read.status).toBe(404);
      expect((await read.json()).error.code).toBe("thread_not_found");
    }
  });

  it("answers 404 on the admin API for agent and thread ids no storage driver accepts", async () => {
    for (const id of ODD_IDS.filter((id) => id !== "..")) {
      for (const path of [`/agents/${encodePath(id)}`, `/agents/${encodePath(id)}/keys`, `/threads/${encodePath(id)}`]) {
        const res = await fetch(`${t.origin}/api/admin${path}`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status, path).toBe(404);
      }
    }
  });
});

/** Like encodeURIComponent, and dots too, so `..` reaches the server instead of being resolved by the client. */
function encodePath(id: string): string {
  return encodeURIComponent(id).replace(/\./g, "%2E");
}
