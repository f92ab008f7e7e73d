import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBrowser, saveBrowserKey, type Browser } from "./_browser";
import { startPlayground, type RunningPlayground } from "./_server";

describe("the playground page in real Chromium, when the server stops", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentgate-outage-"));
  let playground: RunningPlayground;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    playground = await startPlayground(dataDir);
    browser = await openBrowser(playground.origin);
    page = browser.page;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await playground?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("says the server cannot be reached: mid-reply, inside the key dialog (not behind it), on Send, and on Keys, where the selected agent stays the one shown", async () => {
    await page.goto(playground.origin);
    await page.locator("#agents tr[aria-current=true]").waitFor();
    await page.getByLabel("Agent name").fill("Backup bot");
    await page.getByRole("button", { name: "Create agent" }).click();
    await expect.poll(() => page.locator("#keys-agent").textContent()).toBe("Backup bot");
    await saveBrowserKey(page, playground.demoKey!);
    const unreachable = `Cannot reach the agentgate server at ${playground.origin}`;

    // A long reply streams word by word; the server stops halfway through it.
    const words = Array.from({ length: 400 }, (_, i) => `word${i}`).join(" ");
    await page.getByLabel("Message", { exact: true }).fill(words);
    await page.getByLabel("Message", { exact: true }).press("Enter");
    await expect.poll(() => page.locator("#chat-log").textContent()).toContain("Agent:word0 word1");
    await playground.stop();
    await expect.poll(() => page.locator("#chat-error").textContent()).toBe(`${unreachable} any more: the reply was cut off. Is it still running (npm start)?`);
    expect(await page.locator("#chat-log li.assistant").textContent()).not.toContain("word399");
    expect(await page.locator("#chat-announce").textContent()).toBe(""); // only a whole reply is announced

    // "Keys" of another agent: the page says why, and still shows the selected agent with its keys.
    await page.getByRole("button", { name: "Show the keys of Demo agent" }).click();
    await expect.poll(() => page.locator("#status").textContent()).toBe(`${unreachable}. Is it still running (npm start)?`);
    expect(await page.locator("#keys-agent").textContent()).toBe("Backup bot");
    expect(await page.locator("#agents tr[aria-current=true]").textContent()).toContain("Backup bot");
    expect(await page.getByRole("button", { name: "Show the keys of Backup bot", pressed: true }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Show the keys of Demo agent", pressed: false }).count()).toBe(1);
    expect(await page.evaluate(() => localStorage.getItem("agentgate.agentId"))).toBe(await page.locator("#agents tr[aria-current=true]").getAttribute("data-agent-id"));

    // Create in the key dialog: the error shows inside the dialog, in front of the backdrop.
    await page.getByRole("button", { name: "Create API key" }).click();
    const dialog = page.getByRole("dialog", { name: "Create API key" });
    await dialog.getByLabel("Name", { exact: true }).fill("Laptop");
    await dialog.getByRole("button", { name: "Create", exact: true }).click();
    const alert = dialog.getByRole("alert").filter({ hasText: unreachable });
    await expect.poll(() => alert.isVisible()).toBe(true);
    const box = (await alert.boundingBox())!;
    const onTop = await page.evaluate(({ x, y }) => document.elementFromPoint(x, y)?.id, { x: box.x + 5, y: box.y + box.height / 2 });
    expect(onTop).toBe("key-dialog-error");
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.isVisible()).toBe(false);
    // Opened again, the dialog starts clean.
    await page.getByRole("button", { name: "Create API key" }).click();
    expect(await page.locator("#key-dialog-error").textContent()).toBe("");
    await page.keyboard.press("Escape");

    // Send: not "Failed to fetch", but what happened.
    await page.getByLabel("Message", { exact: true }).fill("Anyone?");
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => page.locator("#chat-error").textContent()).toBe(`${unreachable}. Is it still running (npm start)?`);
    expect(browser.pageErrors).toEqual([]);
  });
});
