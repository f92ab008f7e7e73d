import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { requireProgram } from "../_system";

/** Debian's Chromium with a throwaway profile, confirm() answered "OK", and every page error kept. */
export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors of the page's scripts. */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function openBrowser(origin: string): Promise<Browser> {
  const profileDir = mkdtempSync(join(tmpdir(), "agentgate-chromium-"));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: requireProgram("chromium"),
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1100, height: 900 },
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("dialog", (dialog) => void dialog.accept());
  return {
    context,
    page,
    pageErrors,
    async close() {
      await context.close();
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

/** Saves `key` as this browser's key with the page's own form. */
export async function saveBrowserKey(page: Page, key: string): Promise<void> {
  await page.getByLabel("Your API key (for this browser)").fill(key);
  await page.getByRole("button", { name: "Save in this browser" }).click();
  await page.waitForFunction((expected) => localStorage.getItem("agentgate.apiKey") === expected, key);
}

/** The admin token the page itself gets, for checks the page does not show. */
export async function adminToken(origin: string): Promise<string> {
  return ((await (await fetch(`${origin}/playground/session`)).json()) as { admin_token: string }).admin_token;
}
