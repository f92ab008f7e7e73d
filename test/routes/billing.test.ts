import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAdminToken } from "../../src/admin/token";
import { echo } from "../../src/index";
import { ledgerSum, ledgerLines } from "../_billing";
import { ADMIN_SECRET, startGateway, type TestGateway } from "../_setup";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the billing and usage admin API", () => {
  let t: TestGateway;
  let token: string;
  let payments: string;
  const account = "acct_billing";

  beforeAll(async () => {
    t = await startGateway({
      providers: [echo({ models: { "echo/echo": { inputPerMTok: 1, outputPerMTok: 2, maxOutputTokens: 50 }, "echo/other": { inputPerMTok: 3, outputPerMTok: 3, maxOutputTokens: 50 } } })],
    });
    token = await signAdminToken(ADMIN_SECRET, account, { expiresIn: "1h" });
    payments = await signAdminToken(ADMIN_SECRET, account, { expiresIn: "1h", scopes: ["billing:credit"] });
  });
  afterAll(() => t.close());

  const call = async (method: string, path: string, body?: unknown, bearer = token) => {
    const res = await fetch(`${t.origin}/api/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined && { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  };
  const chat = async (key: string, body: Record<string, unknown>) => {
    const res = await fetch(`${t.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hello there" }], ...body }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { thread_id: string };
  };

  it("starts an account at zero and credits only with the billing:credit scope", async () => {
    expect(await call("GET", "/billing")).toEqual({ status: 200, json: { balance_micros: 0, reserved_micros: 0 } });
    const refused = await call("POST", "/billing/credit", { amount_micros: 5000 });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe("insufficient_scope");
    for (const bad of [{ amount_micros: 0 }, { amount_micros: -5 }, { amount_micros: 1.5 }, { amount_micros: "10" }, {}]) {
      expect((await call("POST", "/billing/credit", bad, payments)).status).toBe(400);
    }
    expect((await call("GET", "/billing")).json).toEqual({ balance_micros: 0, reserved_micros: 0 });
    expect(await call("POST", "/billing/credit", { amount_micros: 5000 }, payments)).toEqual({ status: 200, json: { balance_micros: 5000, reserved_micros: 0 } });
    expect((await call("GET", "/billing")).json).toEqual({ balance_micros: 5000, reserved_micros: 0 });
  });

  it("credits once per Idempotency-Key, however often the call is repeated", async () => {
    const accountOf = "acct_idempotent";
    const token = await signAdminToken(ADMIN_SECRET, accountOf, { expiresIn: "1h", scopes: ["billing:credit"] });
    const creditAs = (amount: number, key: string) =>
      fetch(`${t.origin}/api/admin/billing/credit`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": key },
        body: JSON.stringify({ amount_micros: amount }),
      });
    const responses = await Promise.all([creditAs(700, "payment-42"), creditAs(700, "payment-42"), creditAs(700, "payment-42")]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await t.gateway.admin.getBilling(accountOf)).balance_micros).toBe(700);
    const ledger = await ledgerLines(t.gateway, accountOf);
    expect(ledger).toHaveLength(1);
    const reused = await creditAs(900, "payment-42");
    expect(reused.status).toBe(400);
    expect((await reused.json()).error.param).toBe("Idempotency-Key");
    expect((await t.gateway.admin.getBilling(accountOf)).balance_micros).toBe(700);
    expect((await creditAs(1, "spaces are not allowed")).status).toBe(400);
    expect(await ledgerSum(t.gateway, accountOf)).toBe(700);
  });

  it("lists usage with filters and paging, and every entry adds up to the balance", async () => {
    const a = (await call("POST", "/agents", { name: "A" })).json;
    const b = (await call("POST", "/agents", { name: "B" })).json;
    const k1 = (await call("POST", `/agents/${a.id}/keys`, { name: "k1" })).json;
    const k2 = (await call("POST", `/agents/${a.id}/keys`, { name: "k2" })).json;
    const k3 = (await call("POST", `/agents/${b.id}/keys`, { name: "k3" })).json;

    const first = await chat(k1.key, {});
    await chat(k1.key, { thread_id: first.thread_id });
    await sleep(5);
    const middle = new Date().toISOString();
    await sleep(5);
    await chat(k2.key, { model: "echo/other" });
    await chat(k3.key, {});

    const all = await call("GET", "/usage");
    expect(all.status).toBe(200);
    expect(all.json).toMatchObject({ object: "list", has_more: false });
    const entries = all.json.data as Array<Record<string, unknown>>;
    expect(entries.map((e) => e.type)).toEqual(["credit", "charge", "charge", "charge", "charge"]);
    expect(entries.map((e) => e.id)).toEqual(entries.map((e) => e.id).sort());
    expect(entries[1]).toMatchObject({
      object: "ledger_entry",
      agent_id: a.id,
      key_id: k1.id,
      model: "echo/echo",
      thread_id: first.thread_id,
      prompt_tokens: 3,
      completion_tokens: 3,
      cost_micros: 9,
      amount_micros: -9,
    });
    expect(Date.parse(entries[1].created_at as string)).not.toBeNaN();
    const balance = (await call("GET", "/billing")).json.balance_micros;
    expect(entries.reduce((sum, e) => sum + (e.amount_micros as number), 0)).toBe(balance);
    expect(await ledgerSum(t.gateway, account)).toBe(balance);

    const ids = async (query: string) => ((await call("GET", `/usage?${query}`)).json.data as Array<{ id: string }>).map((e) => e.id);
    expect(await ids(`agent_id=${a.id}`)).toEqual([entries[1].id, entries[2].id, entries[3].id]);
    expect(await ids(`key_id=${k2.id}`)).toEqual([entries[3].id]);
    expect(await ids("model=echo/other")).toEqual([entries[3].id]);
    expect(await ids(`thread_id=${first.thread_id}`)).toEqual([entries[1].id, entries[2].id]);
    expect(await ids("type=credit")).toEqual([entries[0].id]);
    expect(await ids(`since=${encodeURIComponent(middle)}`)).toEqual([entries[3].id, entries[4].id]);
    expect(await ids(`until=${encodeURIComponent(middle)}`)).toEqual([entries[0].id, entries[1].id, entries[2].id]);
    expect(await ids(`since=${Math.floor(Date.now() / 1000) + 10}`)).toEqual([]);

    const pages: string[] = [];
    let after = "";
    for (let page = 0; page < 5; page++) {
      const res = (await call("GET", `/usage?limit=2${after ? `&after=${after}` : ""}`)).json;
      pages.push(...res.data.map((e: { id: string }) => e.id));
      if (!res.has_more) break;
      after = res.data.at(-1).id;
    }
    expect(pages).toEqual(entries.map((e) => e.id));
  });

  it("refuses bad filters with 400 and shows another account nothing", async () => {
    for (const query of ["limit=0", "limit=abc", "limit=1001", "limit=2.5", "since=yesterday", "until=2026-13-45", "type=refund"]) {
      const res = await call("GET", `/usage?${query}`);
      expect(res.status).toBe(400);
      expect(res.json.error.type).toBe("invalid_request_error");
    }
    const other = await signAdminToken(ADMIN_SECRET, "acct_someone_else", { expiresIn: "1h" });
    expect((await call("GET", "/usage", undefined, other)).json.data).toEqual([]);
    expect((await call("GET", "/billing", undefined, other)).json).toEqual({ balance_micros: 0, reserved_micros: 0 });
  });
});
