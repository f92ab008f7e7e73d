import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStorage } from "unstorage";
import fsLiteDriver from "unstorage/drivers/fs-lite";
import { afterAll, describe, expect, it } from "vitest";
import { openaiClient, startGateway } from "../_setup";

describe("plaintext keys", () => {
  const dir = mkdtempSync(join(tmpdir(), "agentgate-plaintext-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("never reach storage or logs, after creating, using, rotating and revoking keys", async () => {
    const logged: string[] = [];
    const logger = { warn: (...args: unknown[]) => logged.push(JSON.stringify(args)), error: (...args: unknown[]) => logged.push(JSON.stringify(args)) };
    const t = await startGateway({ storage: createStorage({ driver: fsLiteDriver({ base: dir }) }), logger });
    const keys: string[] = [];
    try {
      const admin = t.gateway.admin;
      await admin.credit("acct_p", 5_000_000);
      for (let a = 0; a < 3; a++) {
        const agent = await admin.createAgent("acct_p", { name: `agent ${a}`, instructions: "hi" });
        for (let k = 0; k < 3; k++) {
          const created = await admin.createKey("acct_p", agent.id, { name: `key ${k}` });
          keys.push(created.key);
          const client = openaiClient(t.baseURL, created.key);
          await client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "use me" }] });
          const stream = await client.chat.completions.create({ model: "echo/echo", stream: true, messages: [{ role: "user", content: "stream me" }] });
          for await (const _ of stream) void _;
          await client.chat.completions.create({ model: "echo/missing", messages: [{ role: "user", content: "fail" }] }).catch(() => {});
        }
        const listed = await admin.listKeys("acct_p", agent.id);
        const rotated = await admin.rotateKey("acct_p", agent.id, listed.data[0].id);
        keys.push(rotated.key);
        await admin.deleteKey("acct_p", agent.id, listed.data[1].id);
      }
      // A mistyped key in a request must not be logged either.
      await fetch(`${t.baseURL}/models`, { headers: { authorization: `Bearer ${keys[0]}x` } });
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await t.close();
    }

    const files = walk(dir);
    expect(files.length).toBeGreaterThan(20);
    const everything = files.map((file) => readFileSync(file, "utf8")).join("\n") + logged.join("\n");
    expect(everything).toContain("a2a_"); // the display `start` is stored; the rest of the key is not
    for (const key of keys) {
      const secret = key.slice(8); // everything after `start`
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(secret.slice(0, 16));
    }
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
