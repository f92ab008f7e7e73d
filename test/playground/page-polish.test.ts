import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireProgram } from "../_system";
import { openBrowser, type Browser } from "./_browser";
import { startPlayground, type RunningPlayground } from "./_server";

const resultsDir = fileURLToPath(new URL("../../test-results/", import.meta.url));

/** Whether the element is inside the viewport as it is scrolled now. */
const onScreen = (page: Page, selector: string) =>
  page.locator(selector).evaluate((element) => {
    const box = element.getBoundingClientRect();
    return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
  });

describe("the playground page's finish, in Chromium at 375 px and 1280 px", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentgate-polish-"));
  let playground: RunningPlayground;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    requireProgram("curl");
    mkdirSync(resultsDir, { recursive: true });
    playground = await startPlayground(dataDir);
    browser = await openBrowser(playground.origin);
    page = browser.page;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await playground?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  for (const width of [375, 1280]) {
    it(`shows every code example whole, the balance in dollars and cents, and an empty keys table that says so, at ${width} px`, async () => {
      await page.setViewportSize({ width, height: 800 });
      await page.goto(playground.origin);
      await expect.poll(() => page.locator("#agents").textContent()).toContain("Demo agent");
      await expect.poll(() => page.locator("#balance").textContent()).toMatch(/^\$\d+\.\d{2}$/);
      expect(await page.locator("#balance").getAttribute("title")).toMatch(/^\$\d+(\.\d+)? exactly$/);
      // Nothing is cut off on the right: each box is as wide as what it holds.
      for (const example of ["#example-curl", "#example-python", "#example-typescript"]) {
        const pre = page.locator(`pre:has(${example})`);
        expect(await pre.evaluate((element) => element.scrollWidth <= element.clientWidth), `${example} at ${width} px`).toBe(true);
        expect(await pre.evaluate((element) => element.getBoundingClientRect().right <= document.documentElement.clientWidth)).toBe(true);
      }
      // A new agent has no keys: the table says so instead of showing headers over nothing.
      await page.getByLabel("Agent name").fill(`Keyless ${width}`);
      await page.getByRole("button", { name: "Create agent" }).click();
      await expect.poll(() => page.locator("#keys-agent").textContent()).toBe(`Keyless ${width}`);
      await expect.poll(() => page.locator("#keys").textContent()).toContain("has no keys yet");
      // The status message is in the agents card, on screen beside the button that caused it.
      await expect.poll(() => page.locator("#status").textContent()).toBe(`Created the agent Keyless ${width}.`);
      expect(await page.locator("#status").evaluate((element) => element.closest(".card")?.querySelector("h2")?.textContent)).toBe("Agents");
      expect(await onScreen(page, "#status")).toBe(true);
      await page.screenshot({ path: join(resultsDir, `playground-${width}.png`), fullPage: true });
    });
  }

  it("shows the top-up's message in the balance card, on screen", async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(playground.origin);
    await expect.poll(() => page.locator("#balance").textContent()).toMatch(/^\$/);
    await page.getByRole("button", { name: "Add $5.00 demo credit" }).click();
    await expect.poll(() => page.locator("#status").textContent()).toBe("Added $5.00 of demo credit.");
    expect(await page.locator("#status").evaluate((element) => element.closest(".card")?.querySelector("h2")?.textContent)).toBe("Balance");
    expect(await onScreen(page, "#status")).toBe(true);
  });

  it("deletes this browser's key without calling the API with it, and its cURL example then fails instead of going on", async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(playground.origin);
    await expect.poll(() => page.locator("#agents").textContent()).toContain("Demo agent");
    await page.getByRole("button", { name: "Show the keys of Demo agent" }).click();
    await expect.poll(() => page.locator("#keys-agent").textContent()).toBe("Demo agent");
    await page.getByRole("button", { name: "Create API key" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Doomed key");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByLabel("Your new API key").inputValue()).toMatch(/^a2a_/);
    const key = await page.getByLabel("Your new API key").inputValue();
    await page.getByRole("button", { name: "Use it in this browser" }).click();
    await page.waitForFunction((expected) => localStorage.getItem("agentgate.apiKey") === expected, key);
    const curl = (await page.locator("#example-curl").textContent())!;
    expect(curl.match(/curl -sS --fail-with-body /g)).toHaveLength(2);

    const withDeletedKey: string[] = [];
    const consoleErrors: string[] = [];
    page.on("request", (request) => void (request.headers().authorization === `Bearer ${key}` && withDeletedKey.push(request.url())));
    page.on("console", (message) => void (message.type() === "error" && consoleErrors.push(message.text())));
    await page.getByRole("button", { name: "Delete the key Doomed key" }).click();
    await expect.poll(() => page.locator("#status").textContent()).toContain("It was the key saved in this browser, so this browser forgot it");
    expect(await page.locator("#status").evaluate((element) => element.closest(".card")?.querySelector("h2")?.textContent)).toBe("API keys");
    expect(withDeletedKey).toEqual([]);
    expect(consoleErrors).toEqual([]);

    // The example as it was shown, run after the key is gone: the first curl fails (exit 22) with the 401 and the second is not sent (no confusing thread_id error).
    const dir = mkdtempSync(join(dataDir, "curl-"));
    const failed = await promisify(execFile)("bash", ["-c", curl], { cwd: dir }).then(
      () => undefined,
      (error: { code: number; stdout: string }) => error,
    );
    expect(failed?.code).toBe(22);
    expect(failed?.stdout).toContain("Incorrect API key");
    expect(failed?.stdout).not.toContain("thread_id");
  });
});
