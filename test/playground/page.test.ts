import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminToken, openBrowser, saveBrowserKey, type Browser } from "./_browser";
import { startPlayground, type RunningPlayground } from "./_server";

const KEY_RE = /^a2a_[A-Za-z0-9]{36,}$/;
const resultsDir = fileURLToPath(new URL("../../test-results/", import.meta.url));

describe("the playground page in real Chromium", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentgate-page-"));
  let playground: RunningPlayground;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    playground = await startPlayground(dataDir);
    browser = await openBrowser(playground.origin);
    ({ context, page, pageErrors } = browser);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await playground?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The focused element, as a test names it: its accessible label, else its id. */
  const focused = () => page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.id ?? "");

  it("creates an agent and a key, shows the key once, uses it from this browser, and revokes it", async () => {
    await page.goto(playground.origin);
    await expect.poll(() => page.locator("#agents").textContent()).toContain("Demo agent");
    await expect.poll(() => page.locator("#balance").textContent()).toBe("$5.00");

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
    expect(await dialog.getByRole("alert").filter({ hasText: "cannot be shown again" }).isVisible()).toBe(true);
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
    // The Responses example: the same key and base URL, continued by previous_response_id.
    const responses = (await page.locator("#example-responses").textContent())!;
    expect(responses).toContain(key);
    expect(responses).toContain("client.responses.create");
    expect(responses).toContain("previous_response_id: first.id");
    expect(responses).toContain(`${playground.origin}/api/v1`);
    await page.reload();
    await expect.poll(() => page.getByLabel("Your API key (for this browser)").inputValue()).toBe(key);
    await expect.poll(() => page.locator("#example-python").textContent()).toContain(`api_key="${key}"`);

    // The chat calls the API with the stored key; the echo reply comes with a thread_id, kept for the next message.
    await page.getByLabel("Message", { exact: true }).fill("Hello from Chromium");
    await page.getByLabel("Message", { exact: true }).press("Enter");
    await expect.poll(() => page.locator("#chat-log").textContent()).toContain("Agent:Hello from Chromium");
    const threadId = (await page.locator("#thread-id").textContent())!;
    expect(threadId).toMatch(/^thread_/);
    // Each reply is announced once, whole, in its own live region; the log itself is not live.
    await expect.poll(() => page.locator("#chat-announce").textContent()).toBe("Agent: Hello from Chromium");
    expect(await page.locator("#chat-log").getAttribute("aria-live")).toBeNull();
    // The examples stay whole on their own: they continue their own first call's thread, not the page's.
    for (const example of ["#example-curl", "#example-python", "#example-typescript"]) expect(await page.locator(example).textContent()).not.toContain(threadId);
    await page.getByLabel("Message", { exact: true }).fill("Second message");
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => page.locator("#chat-log").textContent()).toContain("Agent:Second message");
    expect(await page.locator("#thread-id").textContent()).toBe(threadId);
    const thread = (await (await fetch(`${playground.origin}/api/v1/threads/${threadId}`, { headers: { authorization: `Bearer ${key}` } })).json()) as { messages: { role: string }[] };
    expect(thread.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    await expect.poll(() => page.locator("#keys").textContent()).not.toContain("never");
    await expect.poll(() => page.locator("#balance").getAttribute("title")).not.toBe("$5.00 exactly");

    // The demo top-up credits $5.
    const exact = async () => Number((await page.locator("#balance").getAttribute("title"))!.replace(/^\$| exactly$/g, ""));
    const before = await exact();
    await page.getByRole("button", { name: "Add $5.00 demo credit" }).click();
    await expect.poll(exact).toBeCloseTo(before + 5, 6);

    await page.screenshot({ path: join(resultsDir, "playground.png"), fullPage: true });

    // Deleting the key revokes it: the very next call fails with 401. It was this browser's
    // key, so the browser forgets it too, and says so; the focus moves to the (now empty) list.
    await page.getByRole("button", { name: "Delete the key CI key" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#keys").textContent()).not.toContain("CI key");
    const revoked = await fetch(`${playground.origin}/api/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "Are you there?" }] }),
    });
    expect(revoked.status).toBe(401);
    expect(((await revoked.json()) as { error: { message: string } }).error.message).toContain("Incorrect API key");
    await expect.poll(() => page.locator("#status").textContent()).toContain("It was the key saved in this browser, so this browser forgot it");
    expect(await page.evaluate(() => localStorage.getItem("agentgate.apiKey"))).toBeNull();
    expect(await page.getByLabel("Your API key (for this browser)").inputValue()).toBe("");
    expect(await page.locator("#example-curl").textContent()).not.toContain(key);
    expect(await page.locator("#chat-log").textContent()).toBe("");
    expect(await focused()).toBe("keys-title");
    await page.getByLabel("Message", { exact: true }).fill("Are you there?");
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => page.locator("#chat-error").textContent()).toBe("Save an API key for this browser first.");

    expect(pageErrors).toEqual([]);
  });

  it("starts a new thread whenever this browser's key changes, so the next message goes to the new key's agent (no 404)", async () => {
    await page.goto(playground.origin);
    await page.locator("#agents tr[aria-current=true]").waitFor();
    const send = async (text: string) => {
      await page.getByLabel("Message", { exact: true }).fill(text);
      await page.getByLabel("Message", { exact: true }).press("Enter");
      await expect.poll(() => page.locator("#chat-log").textContent()).toContain(`Agent:${text}`);
      expect(await page.locator("#chat-error").textContent()).toBe("");
      return (await page.locator("#thread-id").textContent())!;
    };

    // A thread of the demo agent, with the demo key.
    await saveBrowserKey(page, playground.demoKey!);
    const demoThread = await send("On the demo agent");

    // A key of another agent, taken with "Use it in this browser": a new thread, on that agent.
    await page.getByRole("button", { name: "Show the keys of Support bot" }).click();
    await expect.poll(() => page.locator("#keys-agent").textContent()).toBe("Support bot");
    await page.getByRole("button", { name: "Create API key" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Second key");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.getByRole("button", { name: "Use it in this browser" }).click();
    await expect.poll(() => page.locator("#status").textContent()).toBe("Saved your API key in this browser. The chat starts a new thread.");
    expect(await page.locator("#thread-id").textContent()).toBe("new");
    expect(await page.locator("#chat-log").textContent()).toBe("");
    const supportThread = await send("On the support bot");
    expect(supportThread).toMatch(/^thread_/);
    expect(supportThread).not.toBe(demoThread);
    expect(await page.locator("#chat-log").textContent()).not.toContain("On the demo agent");

    // Back to the demo key with the form: a new thread again.
    await saveBrowserKey(page, playground.demoKey!);
    expect(await page.locator("#thread-id").textContent()).toBe("new");
    const again = await send("Back on the demo agent");
    expect([demoThread, supportThread]).not.toContain(again);
    // Saving the same key again changes nothing: the thread goes on.
    await saveBrowserKey(page, playground.demoKey!);
    await expect.poll(() => page.locator("#status").textContent()).toBe("Saved your API key in this browser.");
    expect(await page.locator("#thread-id").textContent()).toBe(again);
    expect(pageErrors).toEqual([]);
  });

  it("keeps the keyboard focus: on an agent's Keys button (which then says it is pressed), on the next key after a Delete, on the top-up button", async () => {
    await page.goto(playground.origin);
    await page.locator("#agents tr[aria-current=true]").waitFor();
    const demoAgentId = (await page.locator("#agents tr", { hasText: "Demo agent" }).getAttribute("data-agent-id"))!;

    await page.getByRole("button", { name: "Show the keys of Demo agent" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#keys-agent").textContent()).toBe("Demo agent");
    expect(await focused()).toBe("Show the keys of Demo agent");
    expect(await page.getByRole("button", { name: "Show the keys of Demo agent", pressed: true }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Show the keys of Support bot", pressed: false }).count()).toBe(1);
    expect(await page.locator("#agents tr[aria-current=true]").textContent()).toContain("Demo agent");

    // Two more keys, then Delete with the keyboard: the focus goes to the next row, then (last row) to the one before.
    const token = await adminToken(playground.origin);
    for (const name of ["Spare one", "Spare two"]) {
      const created = await fetch(`${playground.origin}/api/admin/agents/${demoAgentId}/keys`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ name }) });
      expect(created.status).toBe(201);
    }
    await page.keyboard.press("Enter"); // "Keys" again: reloads the list, the focus stays
    await expect.poll(() => page.locator("#keys").textContent()).toContain("Spare two");
    expect(await focused()).toBe("Show the keys of Demo agent");
    const order = await page.locator("#keys button").evaluateAll((buttons) => buttons.map((b) => b.getAttribute("aria-label")));
    expect(order.slice(-2)).toEqual(["Delete the key Spare one", "Delete the key Spare two"]);
    await page.getByRole("button", { name: "Delete the key Spare one" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#keys").textContent()).not.toContain("Spare one");
    expect(await focused()).toBe("Delete the key Spare two");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#keys").textContent()).not.toContain("Spare two");
    expect(await focused()).toBe(order.at(-3));

    // The top-up button is busy while it runs, and keeps the focus.
    const before = Number((await page.locator("#balance").textContent())!.slice(1));
    await page.getByRole("button", { name: "Add $5.00 demo credit" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(async () => Number((await page.locator("#balance").textContent())!.slice(1))).toBeCloseTo(before + 5, 6);
    expect(await focused()).toBe("top-up");
    expect(pageErrors).toEqual([]);
  });

  it("fits a 375px-wide phone: nothing scrolls sideways, the tables' buttons are on screen, and so is the key dialog", async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    try {
      await page.goto(playground.origin);
      await page.getByLabel("Agent name").fill("Escalations-for-the-EMEA-night-shift-and-weekends");
      await page.getByRole("button", { name: "Create agent" }).click();
      await expect.poll(() => page.locator("#keys-agent").textContent()).toBe("Escalations-for-the-EMEA-night-shift-and-weekends");
      await page.getByRole("button", { name: "Create API key" }).click();
      await page.getByLabel("Name", { exact: true }).fill("A-key-with-a-rather-long-name-for-the-phone");
      await page.getByRole("button", { name: "Create", exact: true }).click();
      const dialog = page.getByRole("dialog", { name: "Create API key" });
      await expect.poll(() => dialog.getByLabel("Your new API key").inputValue()).toMatch(KEY_RE);

      const overflow = () =>
        page.evaluate(() => {
          const width = window.innerWidth;
          const outside = [...document.querySelectorAll("button, input, dialog[open]")]
            .filter((element) => (element as HTMLElement).offsetParent !== null || element.tagName === "DIALOG")
            .map((element) => ({ element, box: element.getBoundingClientRect() }))
            .filter(({ box }) => box.width > 0 && (box.left < 0 || box.right > width))
            .map(({ element }) => element.getAttribute("aria-label") ?? element.id ?? element.tagName);
          return { scrollWidth: document.documentElement.scrollWidth, width, outside };
        });
      const inDialog = await overflow();
      expect(inDialog.scrollWidth).toBeLessThanOrEqual(inDialog.width);
      expect(inDialog.outside).toEqual([]);
      const box = (await dialog.boundingBox())!;
      expect(box.y).toBeGreaterThanOrEqual(0);
      expect(box.y + box.height).toBeLessThanOrEqual(740);
      mkdirSync(resultsDir, { recursive: true });
      await page.screenshot({ path: join(resultsDir, "playground-375-new-key.png") });
      await page.keyboard.press("Escape");

      await expect.poll(() => page.locator("#keys").textContent()).toContain("A-key-with-a-rather-long-name-for-the-phone");
      const onPage = await overflow();
      expect(onPage.scrollWidth).toBeLessThanOrEqual(onPage.width);
      expect(onPage.outside).toEqual([]);
      await page.screenshot({ path: join(resultsDir, "playground-375.png"), fullPage: true });
      // Laid out as cards, the tables are still tables to assistive technology, and a cell's
      // visible column label is not part of its name.
      const agents = page.getByRole("table", { name: "Agents of the demo account" });
      expect(await agents.getByRole("columnheader", { name: "ID" }).count()).toBe(1);
      expect(await agents.getByRole("row").filter({ hasText: "Demo agent" }).getByRole("cell", { name: "Demo agent", exact: true }).count()).toBe(1);
    } finally {
      await page.setViewportSize({ width: 1100, height: 900 });
    }
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
