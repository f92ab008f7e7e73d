import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createGateway, echo, type Gateway } from "../src/index";
import { ledgerLines, ledgerSum } from "./_billing";
import { startGatewayProcess, type GatewayProcess } from "./_processes";
import { ADMIN_SECRET } from "./_setup";

// Every request holds and costs exactly 2 micro-USD (no input price, max_tokens = echo's answer).
const MODELS = { "echo/echo": { inputPerMTok: 0, outputPerMTok: 1, maxOutputTokens: 50 } };
const REQUEST = { model: "echo/echo", max_tokens: 2, messages: [{ role: "user" as const, content: "abcdefgh" }] };

describe("budgets across two gateway processes on one Redis", () => {
  const prefix = `budgets-${process.pid}-${Date.now().toString(36)}:`;
  const dir = mkdtempSync(join(tmpdir(), "agentgate-clock-"));
  const clockFile = join(dir, "now");
  let clock = Date.UTC(2026, 2, 10, 15);
  const setClock = (ms: number) => (clock = ms, writeFileSync(clockFile, String(ms)));
  setClock(clock);
  const env = { REDIS_URL: inject("redisUrl"), REDIS_PREFIX: prefix, ADMIN_SECRET, CLOCK_FILE: clockFile, GATEWAY_OPTIONS: JSON.stringify({ models: MODELS }) };
  let one: GatewayProcess;
  let two: GatewayProcess;
  // A third instance in this process, to seed and to look, on the same clock.
  let local: Gateway;

  beforeAll(async () => {
    [one, two] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
    local = createGateway({ redis: inject("redisUrl"), redisPrefix: prefix, providers: [echo()], models: MODELS, now: () => clock });
  });
  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    await local?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Fires one request per key given, all at once, alternating processes; returns each status and error code. */
  const fire = (keys: string[]) =>
    Promise.all(
      keys.map((key, i) =>
        new OpenAI({ apiKey: key, baseURL: [one, two][i % 2].baseURL, maxRetries: 0 }).chat.completions.create(REQUEST).then(
          () => ({ key, status: 200, code: null as unknown }),
          (error: unknown) => ({ key, status: error instanceof APIError ? error.status : -1, code: error instanceof APIError ? error.code : String(error) }),
        ),
      ),
    );

  it("spends exactly an agent's budget of N requests and a key's smaller one out of 3N fired at once, never more; balance and ledger agree; the next day admits again", async () => {
    const N = 60;
    const accountId = `acct_budget_${Date.now()}`;
    const agent = await local.admin.createAgent(accountId, { name: "Budgeted", budget: { limit_micros: 2 * N, period: "day" } });
    const capped = await local.admin.createKey(accountId, agent.id, { name: "capped", budget: { limit_micros: N / 2, period: "day" } });
    const free = await local.admin.createKey(accountId, agent.id, { name: "free" });
    const CREDIT = 1_000_000;
    await local.admin.credit(accountId, CREDIT);

    // Looks while the requests run: what is spent and held never passes either limit.
    const samples: Array<{ agent: number; key: number }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [a, keys] = await Promise.all([local.admin.getAgent(accountId, agent.id), local.admin.listKeys(accountId, agent.id)]);
        const k = keys.data.find((key) => key.id === capped.id)!;
        samples.push({ agent: a.budget!.spent_micros + a.budget!.reserved_micros, key: k.budget!.spent_micros + k.budget!.reserved_micros });
      }
    })();
    const results = await fire(Array.from({ length: 3 * N }, (_, i) => (i % 3 === 0 ? capped.key : free.key)));
    sampling = false;
    await sampler;

    const admitted = results.filter((r) => r.status === 200);
    expect(admitted).toHaveLength(N);
    expect(results.filter((r) => r.status === 402 && r.code === "budget_exceeded")).toHaveLength(2 * N);
    expect(admitted.filter((r) => r.key === capped.key).length).toBeLessThanOrEqual(N / 4);
    expect(samples.length).toBeGreaterThan(0);
    for (const sample of samples) {
      expect(sample.agent).toBeLessThanOrEqual(2 * N);
      expect(sample.key).toBeLessThanOrEqual(N / 2);
    }

    const budget = (await local.admin.getAgent(accountId, agent.id)).budget!;
    expect(budget).toMatchObject({ spent_micros: 2 * N, reserved_micros: 0, remaining_micros: 0 });
    const keyBudget = (await local.admin.listKeys(accountId, agent.id)).data.find((k) => k.id === capped.id)!.budget!;
    expect(keyBudget.spent_micros).toBe(2 * admitted.filter((r) => r.key === capped.key).length);
    expect(await local.admin.getBilling(accountId)).toEqual({ balance_micros: CREDIT - 2 * N, reserved_micros: 0 });
    expect(await ledgerSum(local, accountId)).toBe(CREDIT - 2 * N);
    const charges = (await ledgerLines(local, accountId)).filter((line) => line.type === "charge");
    expect(charges).toHaveLength(N);
    expect(charges.filter((line) => line.key_id === capped.id)).toHaveLength(admitted.filter((r) => r.key === capped.key).length);

    // Still today: refused on both processes, naming the reset.
    const again = await fire([free.key, free.key]);
    expect(again.map((r) => r.code)).toEqual(["budget_exceeded", "budget_exceeded"]);

    // The next UTC day, on the clock every instance reads: both admit again, up to the budget.
    setClock(Date.UTC(2026, 2, 11, 0, 0, 5));
    const nextDay = await fire(Array.from({ length: N + 10 }, () => free.key));
    expect(nextDay.filter((r) => r.status === 200)).toHaveLength(N);
    expect((await local.admin.getAgent(accountId, agent.id)).budget).toMatchObject({ spent_micros: 2 * N, resets_at: new Date(Date.UTC(2026, 2, 12)).toISOString() });
    expect(await ledgerSum(local, accountId)).toBe(CREDIT - 4 * N);
  });

  it("kept both processes alive and quiet", () => {
    expect(one.child.exitCode).toBeNull();
    expect(two.child.exitCode).toBeNull();
    expect(one.stderr() + two.stderr()).toBe("");
  });
});
