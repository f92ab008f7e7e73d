import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { APIError } from "openai";
import { createStorage } from "unstorage";
import fsLiteDriver from "unstorage/drivers/fs-lite";
import { createGateway, echo, type Gateway } from "../../src/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { budgetPeriod, type BudgetThresholdEvent } from "../../src/chain/budgets";
import { signAdminToken } from "../../src/admin/token";
import { ledgerLines, ledgerSum } from "../_billing";
import { ADMIN_SECRET, openaiClient, seedAgent, startGateway, type TestGateway } from "../_setup";

// No input price and max_tokens equal to echo's answer: every request holds and costs exactly 2 micro-USD.
const MODELS = { "echo/echo": { inputPerMTok: 0, outputPerMTok: 1, maxOutputTokens: 50 } };
const REQUEST = { model: "echo/echo", max_tokens: 2, messages: [{ role: "user" as const, content: "abcdefgh" }] };
const MONDAY_NOON = Date.UTC(2026, 0, 5, 12);

describe("budgets on agents and keys", () => {
  let t: TestGateway;
  let clock = MONDAY_NOON;
  const alerts: BudgetThresholdEvent[] = [];

  beforeAll(async () => {
    t = await startGateway({ models: MODELS, now: () => clock, onBudgetThreshold: (event) => void alerts.push(event) });
  });
  afterAll(() => t.close());

  const ask = (key: string) =>
    openaiClient(t.baseURL, key)
      .chat.completions.create(REQUEST)
      .then(
        () => ({ status: 200, code: null as string | null, error: undefined as APIError | undefined }),
        (error: APIError) => ({ status: error.status, code: error.code ?? null, error }),
      );
  const admin = async (accountId: string, method: string, path: string, body?: unknown) => {
    const token = await signAdminToken(ADMIN_SECRET, accountId, { expiresIn: "1h" });
    const response = await fetch(`${t.origin}/api/admin${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, json: await response.json() };
  };

  it("admits an agent's daily budget's worth, then answers 402 budget_exceeded naming it and when it resets, and admits again the next UTC day", async () => {
    clock = MONDAY_NOON;
    const { accountId, agent, key } = await seedAgent(t.gateway, { agent: { name: "Thrifty", budget: { limit_micros: 10, period: "day" } } });
    for (let i = 0; i < 5; i++) expect((await ask(key)).status).toBe(200);
    const refused = await ask(key);
    expect(refused).toMatchObject({ status: 402, code: "budget_exceeded" });
    expect(refused.error!.type).toBe("budget_exceeded");
    expect(refused.error!.message).toContain(`Agent '${agent.id}' has a daily budget of 10 micro-USD, 10 spent`);
    expect(refused.error!.headers?.get("x-budget-reset")).toBe("2026-01-06T00:00:00.000Z");

    const shown = await admin(accountId, "GET", `/agents/${agent.id}`);
    expect(shown.json.budget).toEqual({ limit_micros: 10, period: "day", spent_micros: 10, reserved_micros: 0, remaining_micros: 0, resets_at: "2026-01-06T00:00:00.000Z" });
    expect(await ledgerSum(t.gateway, accountId)).toBe(10_000_000 - 10);

    clock = Date.UTC(2026, 0, 6, 0, 0, 1);
    expect((await ask(key)).status).toBe(200);
    expect((await t.gateway.admin.getAgent(accountId, agent.id)).budget).toMatchObject({ spent_micros: 2, remaining_micros: 8, resets_at: "2026-01-07T00:00:00.000Z" });
  });

  it("holds a key to its own smaller budget while the agent's other keys go on, and a PATCH raises or removes it", async () => {
    clock = MONDAY_NOON;
    const { accountId, agent, key: other } = await seedAgent(t.gateway, { agent: { name: "Shared", budget: { limit_micros: 20, period: "week" } } });
    const small = await admin(accountId, "POST", `/agents/${agent.id}/keys`, { name: "intern", budget: { limit_micros: 4, period: "month" } });
    expect(small.status).toBe(201);
    expect(small.json.budget).toEqual({ limit_micros: 4, period: "month", spent_micros: 0, reserved_micros: 0, remaining_micros: 4, resets_at: "2026-02-01T00:00:00.000Z" });
    expect((await ask(small.json.key)).status).toBe(200);
    expect((await ask(small.json.key)).status).toBe(200);
    const refused = await ask(small.json.key);
    expect(refused.code).toBe("budget_exceeded");
    expect(refused.error!.message).toContain(`Key '${small.json.id}' has a monthly budget of 4`);
    expect((await ask(other)).status).toBe(200);

    const patched = await admin(accountId, "PATCH", `/agents/${agent.id}/keys/${small.json.id}`, { budget: { limit_micros: 6, period: "month" } });
    expect(patched.json.budget).toMatchObject({ spent_micros: 4, remaining_micros: 2 });
    expect((await ask(small.json.key)).status).toBe(200);
    expect((await admin(accountId, "PATCH", `/agents/${agent.id}/keys/${small.json.id}`, { budget: null })).json.budget).toBeUndefined();
    // Now only the agent's weekly budget applies: 8 of 20 are spent, 6 more requests fit.
    const results = await Promise.all(Array.from({ length: 9 }, () => ask(small.json.key)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(6);
    expect(results.filter((r) => r.code === "budget_exceeded")).toHaveLength(3);
    expect((await admin(accountId, "GET", `/agents/${agent.id}/keys`)).json.data.every((k: { budget?: unknown }) => k.budget === undefined)).toBe(true);
    expect((await t.gateway.admin.getAgent(accountId, agent.id)).budget).toMatchObject({ spent_micros: 20, remaining_micros: 0, resets_at: "2026-01-12T00:00:00.000Z" });
    expect((await ledgerLines(t.gateway, accountId)).filter((line) => line.type === "charge")).toHaveLength(10);
  });

  it("tells onBudgetThreshold once at 80 % and once at 100 % of a period", async () => {
    clock = MONDAY_NOON;
    const { accountId, agent, key } = await seedAgent(t.gateway, { agent: { name: "Watched", budget: { limit_micros: 10, period: "total" } } });
    for (let i = 0; i < 6; i++) await ask(key);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const mine = alerts.filter((a) => a.agent_id === agent.id);
    expect(mine).toEqual([
      { account_id: accountId, agent_id: agent.id, key_id: null, budget: "agent", period: "total", threshold: 80, limit_micros: 10, spent_micros: 8, resets_at: null },
      { account_id: accountId, agent_id: agent.id, key_id: null, budget: "agent", period: "total", threshold: 100, limit_micros: 10, spent_micros: 10, resets_at: null },
    ]);
    // A total budget never resets: no x-budget-reset.
    const refused = await ask(key);
    expect(refused.code).toBe("budget_exceeded");
    expect(refused.error!.headers?.get("x-budget-reset") ?? null).toBeNull();
  });

  it("keeps budget_exceeded apart from insufficient_balance", async () => {
    const { key } = await seedAgent(t.gateway, { creditMicros: 3, agent: { name: "Poor", budget: { limit_micros: 100, period: "day" } } });
    expect((await ask(key)).status).toBe(200);
    expect((await ask(key)).code).toBe("insufficient_balance");
  });

  it("refuses a malformed budget with a 400 that names the field, changing nothing", async () => {
    const { accountId, agent } = await seedAgent(t.gateway, { agent: { name: "Careful", budget: { limit_micros: 10, period: "day" } } });
    for (const budget of [{ limit_micros: -1, period: "day" }, { limit_micros: 10, period: "year" }, { limit_micros: 1.5, period: "day" }, { limit_micros: 10 }, { limit_micros: 10, period: "day", extra: 1 }]) {
      const response = await admin(accountId, "PATCH", `/agents/${agent.id}`, { budget });
      expect(response.status).toBe(400);
      expect(response.json.error.type).toBe("invalid_request_error");
      expect(response.json.error.param).toMatch(/^budget/);
    }
    expect((await t.gateway.admin.getAgent(accountId, agent.id)).budget).toMatchObject({ limit_micros: 10, period: "day" });
    expect((await admin(accountId, "POST", "/agents", { name: "x", budget: { limit_micros: 0, period: "day" } })).status).toBe(400);
    expect((await t.gateway.admin.listAgents(accountId)).data).toHaveLength(1);
  });
});

describe("budget periods", () => {
  it("start and end on UTC boundaries: days at midnight, weeks on Monday, months on the first", () => {
    const sunday = Date.UTC(2026, 0, 4, 23, 59, 59);
    expect(budgetPeriod("day", sunday)).toEqual({ start: Date.UTC(2026, 0, 4), end: Date.UTC(2026, 0, 5) });
    expect(budgetPeriod("week", sunday)).toEqual({ start: Date.UTC(2025, 11, 29), end: Date.UTC(2026, 0, 5) });
    expect(budgetPeriod("week", Date.UTC(2026, 0, 5))).toEqual({ start: Date.UTC(2026, 0, 5), end: Date.UTC(2026, 0, 12) });
    expect(budgetPeriod("month", Date.UTC(2025, 11, 31, 12))).toEqual({ start: Date.UTC(2025, 11, 1), end: Date.UTC(2026, 0, 1) });
    expect(budgetPeriod("total", sunday)).toEqual({ start: 0, end: null });
  });
});

describe("budgets over a restart of an in-process gateway", () => {
  it("count what the ledger says was spent this period, so a restart hands out no fresh budget", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agentgate-budget-restart-"));
    const open = () => createGateway({ storage: createStorage({ driver: fsLiteDriver({ base: dir }) }), providers: [echo()], models: MODELS, logger: { warn: () => {}, error: () => {} } });
    const ask = (gateway: Gateway, key: string) =>
      gateway.fetch(new Request("http://gw/api/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(REQUEST) })).then((r) => r.status);
    try {
      let gateway = open();
      const { accountId, agent, key } = await seedAgent(gateway, { agent: { name: "Restarted", budget: { limit_micros: 10, period: "month" } } });
      for (let i = 0; i < 3; i++) expect(await ask(gateway, key)).toBe(200);
      await gateway.close();

      gateway = open();
      expect((await gateway.admin.getAgent(accountId, agent.id)).budget).toMatchObject({ spent_micros: 6, remaining_micros: 4 });
      expect([await ask(gateway, key), await ask(gateway, key), await ask(gateway, key)]).toEqual([200, 200, 402]);
      await gateway.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
