import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminToken, openBrowser, saveBrowserKey, type Browser } from "./_browser";
import { startPlayground, type RunningPlayground } from "./_server";
import { requireProgram } from "../_system";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));

interface Thread {
  id: string;
  messages: { role: string; content: string }[];
}

describe("the page's examples, copied and run as shown", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentgate-examples-"));
  const workDir = mkdtempSync(join(tmpdir(), "agentgate-examples-run-"));
  let playground: RunningPlayground;
  let browser: Browser;
  let page: Page;
  let key: string;

  beforeAll(async () => {
    requireProgram("curl");
    playground = await startPlayground(dataDir);
    key = playground.demoKey!;
    browser = await openBrowser(playground.origin);
    page = browser.page;
    await page.goto(playground.origin);
    await page.locator("#agents tr[aria-current=true]").waitFor();
    await saveBrowserKey(page, key);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await playground?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  const example = async (id: string) => {
    await expect.poll(() => page.locator(id).textContent()).toContain(key);
    return (await page.locator(id).textContent())!;
  };
  const thread = async (id: string) => (await (await fetch(`${playground.origin}/api/v1/threads/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as Thread;

  /** Runs the cURL example in bash, in a folder of its own; returns the two replies it printed. */
  const runCurl = async (text: string) => {
    const dir = mkdtempSync(join(workDir, "curl-"));
    const { stdout } = await run("bash", ["-c", text], { cwd: dir });
    return stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { thread_id: string; choices: { message: { content: string } }[] });
  };

  it("runs the cURL example in bash: its second call continues the thread of its own first call, before and after a chat on the page", async () => {
    // Before any chat on the page: no placeholder thread id to fill in by hand.
    const before = await runCurl(await example("#example-curl"));
    expect(before.map((reply) => reply.choices[0].message.content)).toEqual(["Hello!", "And then?"]);
    expect(before[0].thread_id).toMatch(/^thread_/);
    expect(before[1].thread_id).toBe(before[0].thread_id);
    expect((await thread(before[0].thread_id)).messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "Hello!"],
      ["assistant", "Hello!"],
      ["user", "And then?"],
      ["assistant", "And then?"],
    ]);

    // After a chat on the page, the example still continues its own thread, not the page's.
    await page.getByLabel("Message", { exact: true }).fill("A chat on the page");
    await page.getByLabel("Message", { exact: true }).press("Enter");
    await expect.poll(() => page.locator("#chat-log").textContent()).toContain("Agent:A chat on the page");
    const pageThread = (await page.locator("#thread-id").textContent())!;
    expect(pageThread).toMatch(/^thread_/);
    const text = await example("#example-curl");
    expect(text).not.toContain(pageThread);
    const after = await runCurl(text);
    expect(after[1].thread_id).toBe(after[0].thread_id);
    expect(after[0].thread_id).not.toBe(pageThread);
    expect(after[0].thread_id).not.toBe(before[0].thread_id);
    expect((await thread(after[0].thread_id)).messages).toHaveLength(4);
    expect((await thread(pageThread)).messages).toHaveLength(2);
  });

  it("runs the TypeScript example in a fresh `npm init -y` folder (CommonJS) as example.ts and as example.mts, and it type-checks against openai 6", async () => {
    const text = await example("#example-typescript");
    const dir = mkdtempSync(join(workDir, "ts-"));
    await run("npm", ["init", "-y"], { cwd: dir });
    expect(JSON.parse((await run("npm", ["pkg", "get", "type"], { cwd: dir })).stdout)).toBe("commonjs");
    // `npm install openai`, offline: the very package our own tests use.
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(join(root, "node_modules/openai"), join(dir, "node_modules/openai"), "dir");
    writeFileSync(join(dir, "example.ts"), text);
    writeFileSync(join(dir, "example.mts"), text);

    // Strict, with no @types/node in the folder (a fresh folder has none).
    const tsc = await run(join(root, "node_modules/.bin/tsc"), ["--noEmit", "--strict", "--module", "nodenext", "--target", "es2022", "example.ts", "example.mts"], { cwd: dir }).catch((error: { stdout: string }) => error);
    expect(tsc.stdout).toBe("");

    const agentId = (await page.locator("#agents tr[aria-current=true]").getAttribute("data-agent-id"))!;
    const token = await adminToken(playground.origin);
    const threads = async () => ((await (await fetch(`${playground.origin}/api/admin/agents/${agentId}/threads?limit=1000`, { headers: { authorization: `Bearer ${token}` } })).json()) as { data: Thread[] }).data;
    for (const file of ["example.ts", "example.mts"]) {
      const known = new Set((await threads()).map((t) => t.id));
      const { stdout, stderr } = await run(join(root, "node_modules/.bin/tsx"), [file], { cwd: dir });
      expect(stderr, file).toBe("");
      expect(stdout, file).toBe("Hello!\nAnd then?\n");
      // One new thread, holding both calls: the second one continued the first.
      const started = (await threads()).filter((t) => !known.has(t.id));
      expect(started.map((t) => t.messages.map((m) => m.content)), file).toEqual([["Hello!", "Hello!", "And then?", "And then?"]]);
    }
    expect(browser.pageErrors).toEqual([]);
  }, 60_000);
});
