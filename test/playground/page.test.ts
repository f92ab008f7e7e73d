import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPlayground, type RunningPlayground } from "./_server";

const KEY_RE = /^a2a_[A-Za-z0-9]{36,}$/;
const resultsDir = fileURLToPath(new URL("../../test-results/", import.meta.url));

describe("the playground page in real Chromium", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentgate-page-"));
  const profileDir = mkdtempSync(join(tmpdir(), "agentgate-chromium-"));
  let playground: RunningPlayground;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    playground = await startPlayground(dataDir);
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1100, height: 900 },
    });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: playground.origin });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("dialog", (dialog) => void dialog.accept());
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await playground?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  it("creates an agent and a key, shows the key once, uses it from this browser, and revokes it", async () => {
    await page.goto(playground.origin);
    await expect.poll(() => page.locator("#agents").textContent()).toContain("Demo agent");
    await expect.poll(() => page.locator("#balance").textContent()).toBe("$5.000000");

    // An agent, created with the form (keyboard only), becomes the selected one.
    await page.getByLabel("Agent name").focus();
    await page.keyboard.type("Support bot");
    await page.getByLabel(/^Instructions/).fill("You answer support tickets.");
    await page.getByRole("button", { name: "Create agent" }).press("Enter");
    await expect.poll(() => page.locator("#keys-agent").textContent()).toBe("Support bot");
    await expect.poll(() => page.locator("#agents tr[aria-current=true]").textContent()).toContain("Support bot");

    // A key, created in the dialog: shown once, with a copy button and the warning.
    // Keyboard only: the dialog takes the focus to its name field, Enter creates.
    await page.getByRole("button", { name: "Create API key" }).press("Enter");
    const dialog = page.getByRole("dialog", { name: "Create API key" });
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("key-name");
    await page.keyboard.type("CI key");
    await page.keyboard.press("Enter");
    const keyField = dialog.getByLabel("Your new API key");
    await expect.poll(() => keyField.inputValue()).toMatch(KEY_RE);
    const key = await keyField.inputValue();
    expect(await dialog.getByRole("alert").textContent()).toContain("cannot be shown again");
    await dialog.getByRole("button", { name: "Copy" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    mkdirSync(resultsDir, { recursive: true });
    await page.screenshot({ path: join(resultsDir, "playground-new-key.png") });
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.isVisible()).toBe(false);

    // The list shows only `start`; after a reload the plaintext is nowhere on the page.
    const start = key.slice(0, 8);
    await expect.poll(() => page.locator("#keys").textContent()).toContain(`${start}…`);
    await page.reload();
    await expect.poll(() => page.locator("#agents").textContent()).toContain("Support bot");
    await page.getByRole("button", { name: "Show the keys of Support bot" }).click();
    await expect.poll(() => page.locator("#keys").textContent()).toContain("CI key");
    expect(await page.locator("#keys").textContent()).toContain(`${start}…`);
    expect(await page.content()).not.toContain(key);
    expect(await page.locator("#keys").textContent()).toContain("never");

    // Saved for this browser: localStorage, and every example is filled in with it.
    await page.getByLabel("Your API key (for this browser)").fill(key);
    await page.getByRole("button", { name: "Save in this browser" }).click();
    await expect.poll(() => page.evaluate(() => localStorage.getItem("agentgate.apiKey"))).toBe(key);
    for (const example of ["#example-curl", "#example-python", "#example-typescript"]) {
      await expect.poll(() => page.locator(example).textContent()).toContain(key);
      const text = (await page.locator(example).textContent())!;
      expect(text, example).toContain(key);
      expect(text, example).toContain("thread_id");
      expect(text, example).toContain(`${playground.origin}/api/v1`);
    }
    await page.reload();
    await expect.poll(() => page.getByLabel("Your API key (for this browser)").inputValue()).toBe(key);
    await expect.poll(() => page.locator("#example-python").textContent()).toContain(`api_key="${key}"`);

    // The chat calls the API with the stored key; the echo reply comes with a thread_id, kept for the next message.
    await page.getByLabel("Message", { exact: true }).fill("Hello from Chromium");
    await page.getByLabel("Message", { exact: true }).press("Enter");
    await expect.poll(() => page.locator("#chat-log").textContent()).toContain("Agent:Hello from Chromium");
    const threadId = (await page.locator("#thread-id").textContent())!;
    expect(threadId).toMatch(/^thread_/);
    await expect.poll(() => page.locator("#example-curl").textContent()).toContain(threadId);
    await page.getByLabel("Message", { exact: true }).fill("Second message");
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => page.locator("#chat-log").textContent()).toContain("Agent:Second message");
    expect(await page.locator("#thread-id").textContent()).toBe(threadId);
    const thread = (await (await fetch(`${playground.origin}/api/v1/threads/${threadId}`, { headers: { authorization: `Bearer ${key}` } })).json()) as { messages: { role: string }[] };
    expect(thread.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    await expect.poll(() => page.locator("#keys").textContent()).not.toContain("never");
    await expect.poll(() => page.locator("#balance").textContent()).not.toBe("$5.000000");

    // The demo top-up credits $5.
    const before = Number((await page.locator("#balance").textContent())!.slice(1));
    await page.getByRole("button", { name: "Add $5.00 demo credit" }).click();
    await expect.poll(async () => Number((await page.locator("#balance").textContent())!.slice(1))).toBeCloseTo(before + 5, 6);

    await page.screenshot({ path: join(resultsDir, "playground.png"), fullPage: true });

    // Deleting the key revokes it: the very next call fails with 401.
    await page.getByRole("button", { name: "Delete the key CI key" }).click();
    await expect.poll(() => page.locator("#keys").textContent()).not.toContain("CI key");
    await page.getByLabel("Message", { exact: true }).fill("Are you there?");
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => page.locator("#chat-error").textContent()).toContain("401");
    await expect.poll(() => page.locator("#chat-error").textContent()).toContain("Incorrect API key");
    expect(await page.locator("#chat-log").textContent()).not.toContain("Are you there?");

    expect(pageErrors).toEqual([]);
  });

  it("declares an icon that loads, so the browser never asks for /favicon.ico (a 404)", async () => {
    const fresh = await context.newPage();
    const failed: string[] = [];
    fresh.on("response", (response) => void (response.status() >= 400 && failed.push(`${response.status()} ${response.url()}`)));
    await fresh.goto(playground.origin, { waitUntil: "networkidle" });
    // Headless Chromium fetches no favicon itself: load the one a desktop browser would, as an image (CSP img-src).
    const icon = await fresh.evaluate(async () => {
      const href = document.querySelector<HTMLLinkElement>("link[rel~=icon]")?.href;
      if (!href) return undefined;
      const image = new Image();
      image.src = href;
      return { href, ok: await image.decode().then(() => true, () => false) };
    });
    expect(icon).toMatchObject({ href: expect.stringMatching(/^data:image\/svg\+xml,/), ok: true });
    expect(failed).toEqual([]);
    await fresh.close();
  });
});
