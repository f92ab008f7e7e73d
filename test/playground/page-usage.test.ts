import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminToken, openBrowser, saveBrowserKey, type Browser } from "./_browser";
import { startPlayground, type RunningPlayground } from "./_server";

const resultsDir = fileURLToPath(new URL("../../test-results/", import.meta.url));

describe("the playground page's Usage view in real Chromium", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentgate-page-usage-"));
  let playground: RunningPlayground;
  let browser: Browser;
  let page: Page;
  let token: string;

  beforeAll(async () => {
    playground = await startPlayground(dataDir);
    browser = await openBrowser(playground.origin);
    page = browser.page;
    token = await adminToken(playground.origin);
    mkdirSync(resultsDir, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await playground?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const api = async (path: string) => (await fetch(`${playground.origin}/api/admin${path}`, { headers: { authorization: `Bearer ${token}` } })).json();
  const call = (content: string, stream = false) =>
    fetch(`${playground.origin}/api/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${playground.demoKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "echo/echo", stream, messages: [{ role: "user", content }] }),
    }).then((res) => res.text());
  const tableText = (id: string) => page.locator(`#${id} tr`).evaluateAll((rows) => rows.map((row) => [...(row as HTMLTableRowElement).cells].map((cell) => cell.textContent!.trim())));
  const dollars = (micros: number) => `$${(micros / 1_000_000).toFixed(6)}`;

  it("shows after a few real calls the chart and tables the admin usage API answers", async () => {
    await call("hello there");
    await call("a second, somewhat longer question");
    await call("and a streamed one", true);
    await page.goto(playground.origin);
    const usage = page.getByRole("region", { name: "Usage" });
    await expect.poll(() => tableText("usage-agents")).toHaveLength(1);
    await expect.poll(async () => (await tableText("usage-agents"))[0]?.[1]).toBe("3");

    const today = new Date().toISOString().slice(0, 10);
    const byAgent = (await api(`/usage/summary?group_by=agent&until=${today}`)).data;
    const byModel = (await api(`/usage/summary?group_by=model&until=${today}`)).data;
    expect(await tableText("usage-agents")).toEqual(byAgent.map((row: Row) => ["Demo agent", String(row.requests), String(row.prompt_tokens), String(row.completion_tokens), dollars(row.cost_micros)]));
    expect(await tableText("usage-models")).toEqual(byModel.map((row: Row) => ["echo/echo", String(row.requests), String(row.prompt_tokens), String(row.completion_tokens), dollars(row.cost_micros)]));
    const byKey = await tableText("usage-keys");
    expect(byKey).toEqual([[expect.any(String), "Demo agent", "3", dollars(byAgent[0].cost_micros)]]);
    // Each row of the API keys table says its key's requests and spend.
    const spend = (await api(`/usage/summary?group_by=key&until=${today}`)).data;
    expect(spend).toHaveLength(1);
    await expect.poll(() => page.locator("#keys tr").first().textContent()).toContain(`3 requests, ${dollars(spend[0].cost_micros)}`);

    // Today's bar holds the day's figures, the other 29 are empty; the text says the values too.
    const bars = await page.locator("#usage-spend-chart rect").evaluateAll((rects) => rects.map((rect) => ({ day: (rect as SVGElement).dataset.day, value: Number((rect as SVGElement).dataset.value), title: rect.textContent })));
    expect(bars).toHaveLength(30);
    expect(bars.at(-1)).toEqual({ day: today, value: byAgent[0].cost_micros, title: `${today}: ${dollars(byAgent[0].cost_micros)}` });
    expect(bars.slice(0, -1).every((bar) => bar.value === 0)).toBe(true);
    expect(await page.locator("#usage-requests-chart rect").last().getAttribute("data-value")).toBe("3");
    expect(await page.locator("#usage-spend-chart svg").getAttribute("role")).toBe("img");
    expect(await usage.getByText("3 requests").textContent()).toContain(dollars(byAgent[0].cost_micros));

    // The latest lines, newest first, as the ledger has them.
    const lines = (await api("/usage?type=charge")).data.reverse();
    const shown = await tableText("usage-lines");
    expect(shown.map((row) => row.slice(1))).toEqual(lines.map((line: Line) => ["Demo agent", expect.any(String), "echo/echo", `${line.prompt_tokens} / ${line.completion_tokens}`, dollars(line.cost_micros), line.thread_id]));
    await page.screenshot({ path: join(resultsDir, "playground-usage.png"), fullPage: true });
  });

  it("counts a chat sent from the page, and fits a phone", async () => {
    await saveBrowserKey(page, playground.demoKey!);
    await page.getByLabel("Message", { exact: true }).fill("one more from the page");
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(async () => (await tableText("usage-agents"))[0]?.[1]).toBe("4");
    expect(await page.locator("#usage-lines tr").count()).toBe(4);
    await expect.poll(() => page.locator("#keys tr").first().textContent()).toContain("4 requests");
    await page.setViewportSize({ width: 375, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.locator("#usage").screenshot({ path: join(resultsDir, "playground-usage-phone.png") });
    expect(browser.pageErrors).toEqual([]);
  });
});

interface Row {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_micros: number;
}
interface Line extends Row {
  thread_id: string;
}
