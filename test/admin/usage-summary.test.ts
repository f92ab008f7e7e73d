import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { signAdminToken } from "../../src/admin/token";
import { createFsLedger } from "../../src/fs";
import { createMemoryLedger, createRedisLedger, echo, type LedgerStore } from "../../src/index";
import { ADMIN_SECRET, seedAgent, startGateway, type TestGateway } from "../_setup";

const drivers: Record<string, () => { ledger: LedgerStore; cleanup(): void }> = {
  memory: () => ({ ledger: createMemoryLedger(), cleanup: () => undefined }),
  fs: () => {
    const dir = mkdtempSync(join(tmpdir(), "agentgate-usage-"));
    return { ledger: createFsLedger({ dir }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  },
  redis: () => ({ ledger: createRedisLedger({ redis: inject("redisUrl"), prefix: `usage-summary-${process.pid}-${Date.now()}:` }), cleanup: () => undefined }),
};

describe.each(Object.keys(drivers))("the usage summary on the %s ledger", (driver) => {
  let t: TestGateway;
  let cleanup: () => void;
  let token: string;
  let first: Awaited<ReturnType<typeof seedAgent>>;
  let second: Awaited<ReturnType<typeof seedAgent>>;
  const accountId = `acct_summary_${driver}`;

  beforeAll(async () => {
    const made = drivers[driver]!();
    cleanup = made.cleanup;
    t = await startGateway({
      ledger: made.ledger,
      providers: [echo({ models: { "echo/echo": { inputPerMTok: 1, outputPerMTok: 2 }, "echo/other": { inputPerMTok: 3, outputPerMTok: 3 } } })],
    });
    token = await signAdminToken(ADMIN_SECRET, accountId, { expiresIn: "1h" });
    first = await seedAgent(t.gateway, { accountId, agent: { name: "First" } });
    second = await seedAgent(t.gateway, { accountId, creditMicros: 0, agent: { name: "Second" } });
    const calls = [
      [first.key, "echo/echo", "hello there"],
      [first.key, "echo/echo", "a somewhat longer message"],
      [first.key, "echo/other", "hi"],
      [second.key, "echo/other", "hello from the second agent"],
    ] as const;
    for (const [key, model, content] of calls) {
      const res = await fetch(`${t.baseURL}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content }] }),
      });
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => {
    await t.close();
    cleanup();
  });

  const summary = async (query: string) => {
    const res = await fetch(`${t.origin}/api/admin/usage/summary${query}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, json: await res.json() };
  };
  /** The ledger's own lines, through the paged usage API, summed by hand. */
  const linesSum = async (pick: (line: { agent_id: string; model: string }) => string) => {
    const res = await fetch(`${t.origin}/api/admin/usage?type=charge&limit=1000`, { headers: { authorization: `Bearer ${token}` } });
    const sums: Record<string, { requests: number; prompt_tokens: number; completion_tokens: number; cost_micros: number }> = {};
    for (const line of (await res.json()).data) {
      const sum = (sums[pick(line)] ??= { requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_micros: 0 });
      sum.requests += 1;
      sum.prompt_tokens += line.prompt_tokens;
      sum.completion_tokens += line.completion_tokens;
      sum.cost_micros += line.cost_micros;
    }
    return sums;
  };

  it("totals the paid requests, their tokens and their cost, leaving the credits out", async () => {
    const { status, json } = await summary("");
    expect(status).toBe(200);
    expect(json.data).toHaveLength(1);
    const [row] = json.data;
    const all = (await linesSum(() => "all")).all!;
    expect(row).toEqual({ object: "usage_summary", ...all });
    expect(row.requests).toBe(4);
    expect(row.cost_micros).toBeGreaterThan(0);
  });

  it("groups by agent and by model as the ledger lines add up", async () => {
    const byAgent = await summary("?group_by=agent");
    expect(byAgent.json.group_by).toEqual(["agent"]);
    const perAgent = await linesSum((line) => line.agent_id);
    expect(Object.fromEntries(byAgent.json.data.map(({ agent_id, object: _o, ...rest }: { agent_id: string; object: string }) => [agent_id, rest]))).toEqual(perAgent);
    expect(perAgent[first.agent.id]!.requests).toBe(3);

    const byModel = await summary("?group_by=model");
    expect(Object.fromEntries(byModel.json.data.map(({ model, object: _o, ...rest }: { model: string; object: string }) => [model, rest]))).toEqual(await linesSum((line) => line.model));
  });

  it("groups by key and day together, and counts only the days asked for", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const { json } = await summary(`?group_by=key,day&since=${today}&until=${today}`);
    expect(json.data.map((row: { key_id: string; day: string; requests: number }) => [row.key_id, row.day, row.requests]).sort()).toEqual([[first.keyId, today, 3], [second.keyId, today, 1]].sort());
    expect((await summary("?since=2020-01-01&until=2020-01-31")).json.data).toEqual([]);
    // A time stands for its UTC day.
    expect((await summary(`?since=${encodeURIComponent(new Date().toISOString())}`)).json.data[0].requests).toBe(4);
    // Without a zone, UTC; Unix seconds too.
    expect((await summary(`?since=${today}T00:00`)).json.data[0].requests).toBe(4);
    expect((await summary(`?since=${Math.floor(Date.now() / 1000)}`)).json.data[0].requests).toBe(4);
  });

  it("refuses an unknown group, a malformed day and a range that ends before it starts", async () => {
    // Unix seconds past the range of a JavaScript date too (a 500 once), and what only Date.parse would guess at (-1 was 2001).
    for (const query of ["?group_by=thread", "?since=2026-02-30", "?until=yesterday", "?since=2026-12-02&until=2026-12-01", "?since=99999999999999", "?until=9999999999999", "?until=-1", "?since=1%2F2%2F2026", "?since=2024-02-30T10:00Z", "?until=2026-12-01T24:00"]) {
      const { status, json } = await summary(query);
      expect(status, query).toBe(400);
      expect(json.error.code).toBe("invalid_request");
    }
  });

  it("shows another account nothing", async () => {
    const other = await signAdminToken(ADMIN_SECRET, "acct_someone_else", { expiresIn: "1h" });
    const res = await fetch(`${t.origin}/api/admin/usage/summary?group_by=agent`, { headers: { authorization: `Bearer ${other}` } });
    expect((await res.json()).data).toEqual([]);
  });
});
