import { afterAll, describe, expect, it } from "vitest";
import type { Atomics, BudgetHold } from "../../src/stores/atomics";
import type { AtomicsFactory } from "./_atomics-suite";

const MINUTE = 60_000;
const DAY1 = Date.UTC(2026, 11, 3);
const DAY2 = Date.UTC(2026, 11, 4);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const agent = (limitMicros: number, periodStart = DAY1): BudgetHold => ({ scope: "agent/agt_1", limitMicros, periodStart });
const key = (limitMicros: number, periodStart = DAY1): BudgetHold => ({ scope: "key/key_1", limitMicros, periodStart });

/** Budgets held in the same atomic step as the balance, for every driver that supports them. */
export function testBudgets(name: string, factory: AtomicsFactory): void {
  describe(`budget conformance: ${name}`, () => {
    const opened: Atomics[] = [];
    let counter = 0;
    const fresh = async () => {
      const namespace = `bud${process.pid}x${counter++}x${Math.random().toString(36).slice(2, 8)}`;
      const open = async () => {
        const atomics = await factory(namespace);
        opened.push(atomics);
        return atomics;
      };
      const a = await open();
      await a.credit("acct", 1_000_000);
      return { a, open };
    };
    afterAll(async () => {
      await Promise.all(opened.map((atomics) => atomics.close()));
    });

    it("holds against the balance and every budget at once, and a refusal names the budget and holds nothing", async () => {
      const { a } = await fresh();
      expect((await a.reserve("acct", "r1", 60, MINUTE, [agent(100), key(80)])).ok).toBe(true);
      const refused = await a.reserve("acct", "r2", 30, MINUTE, [agent(100), key(80)]);
      expect(refused).toMatchObject({ ok: false, balance_micros: 1_000_000, reserved_micros: 60 });
      expect(refused.budget).toEqual({ scope: "key/key_1", limit_micros: 80, spent_micros: 0, reserved_micros: 60, period_start: DAY1 });
      // Nothing of the refused request is held anywhere: 20 still fits under the key's budget.
      expect(await a.getBudgets!("acct", [agent(100), key(80)])).toEqual([
        { scope: "agent/agt_1", limit_micros: 100, spent_micros: 0, reserved_micros: 60, period_start: DAY1 },
        { scope: "key/key_1", limit_micros: 80, spent_micros: 0, reserved_micros: 60, period_start: DAY1 },
      ]);
      expect((await a.reserve("acct", "r3", 20, MINUTE, [agent(100), key(80)])).ok).toBe(true);
    });

    it("charges every budget the hold named at settle, and reports 80 % and 100 % once each per period", async () => {
      const { a } = await fresh();
      await a.reserve("acct", "r1", 50, MINUTE, [agent(100)]);
      const first = await a.settle("acct", "r1", 40);
      expect(first.budgets).toEqual([{ scope: "agent/agt_1", limit_micros: 100, spent_micros: 40, reserved_micros: 0, period_start: DAY1 }]);
      await a.reserve("acct", "r2", 50, MINUTE, [agent(100)]);
      expect((await a.settle("acct", "r2", 45)).budgets?.[0]).toMatchObject({ spent_micros: 85, crossed: 80 });
      // A repeated settle charges nothing and reports nothing again.
      expect((await a.settle("acct", "r2", 45)).budgets).toBeUndefined();
      await a.reserve("acct", "r3", 10, MINUTE, [agent(100)]);
      expect((await a.settle("acct", "r3", 5)).budgets?.[0].crossed).toBeUndefined();
      await a.reserve("acct", "r4", 10, MINUTE, [agent(100)]);
      expect((await a.settle("acct", "r4", 10)).budgets?.[0]).toMatchObject({ spent_micros: 100, crossed: 100 });
      expect((await a.reserve("acct", "r5", 1, MINUTE, [agent(100)])).ok).toBe(false);
      expect(await a.getBalance("acct")).toEqual({ balance_micros: 1_000_000 - 100, reserved_micros: 0 });
    });

    it("never charges past a budget when requests cost more than they held: the charge stops at what no other hold has room for", async () => {
      const { a } = await fresh();
      // Three holds of 30 fill 90 of a 100 budget; each request turns out to cost 40.
      for (const id of ["r1", "r2", "r3"]) expect((await a.reserve("acct", id, 30, MINUTE, [agent(100), key(1_000)])).ok).toBe(true);
      expect((await a.settle("acct", "r1", 40)).charged_micros).toBe(40);
      // 100 - 40 spent - 30 still held by r3 leaves 30 for r2.
      expect((await a.settle("acct", "r2", 40)).charged_micros).toBe(30);
      const last = await a.settle("acct", "r3", 40);
      expect(last.charged_micros).toBe(30);
      expect(last.budgets?.map((b) => b.spent_micros)).toEqual([100, 100]);
      expect(await a.getBalance("acct")).toEqual({ balance_micros: 1_000_000 - 100, reserved_micros: 0 });
    });

    it("starts a budget afresh in a later period, while holds made before still hold", async () => {
      const { a } = await fresh();
      await a.reserve("acct", "r1", 70, MINUTE, [agent(100)]);
      await a.settle("acct", "r1", 70);
      await a.reserve("acct", "r2", 20, MINUTE, [agent(100)]);
      expect((await a.reserve("acct", "r3", 20, MINUTE, [agent(100)])).ok).toBe(false);
      // A clock running behind counts in the newer period, never resets it back.
      expect((await a.reserve("acct", "r3", 80, MINUTE, [agent(100, DAY2)])).ok).toBe(true);
      expect((await a.reserve("acct", "r4", 1, MINUTE, [agent(100, DAY1)])).ok).toBe(false);
      expect(await a.getBudgets!("acct", [agent(100, DAY2)])).toEqual([{ scope: "agent/agt_1", limit_micros: 100, spent_micros: 0, reserved_micros: 100, period_start: DAY2 }]);
    });

    it("frees a crashed request's budget hold when its hold expires", async () => {
      const { a } = await fresh();
      const start = performance.now();
      await a.reserve("acct", "r1", 100, 1_000, [agent(100)]);
      expect((await a.reserve("acct", "r2", 100, MINUTE, [agent(100)])).ok).toBe(false);
      await sleep(1_100 - (performance.now() - start));
      expect((await a.reserve("acct", "r2", 100, MINUTE, [agent(100)])).ok).toBe(true);
      expect((await a.settle("acct", "r1", 100)).charged_micros).toBe(0);
      expect((await a.getBudgets!("acct", [agent(100)]))[0]).toMatchObject({ spent_micros: 0, reserved_micros: 100 });
    });

    it("without budgets answers exactly as before", async () => {
      const { a } = await fresh();
      expect(await a.reserve("acct", "r1", 10, MINUTE)).toEqual({ ok: true, balance_micros: 1_000_000, reserved_micros: 10 });
      expect(await a.settle("acct", "r1", 10)).toEqual({ charged_micros: 10, balance_micros: 999_990, reserved_micros: 0 });
    });

    it("refuses a budget no driver can count, holding nothing", async () => {
      const { a } = await fresh();
      await expect(a.reserve("acct", "r1", 10, MINUTE, [{ scope: "a,b", limitMicros: 10, periodStart: 0 }])).rejects.toThrow(TypeError);
      await expect(a.reserve("acct", "r1", 10, MINUTE, [{ scope: "ok", limitMicros: 0, periodStart: 0 }])).rejects.toThrow(TypeError);
      expect(await a.getBalance("acct")).toEqual({ balance_micros: 1_000_000, reserved_micros: 0 });
    });

    it("reports each level to one settle only when two handles race past it", async () => {
      const { a, open } = await fresh();
      const b = await open();
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).reserve("acct", `r${i}`, 5, MINUTE, [agent(100)])));
      const settled = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? b : a).settle("acct", `r${i}`, 5)));
      const crossed = settled.map((r) => r.budgets?.[0].crossed).filter(Boolean);
      expect(crossed.sort((x, y) => x! - y!)).toEqual([80, 100]);
    });

    it("admits exactly the budget's worth when two handles race", async () => {
      const { a, open } = await fresh();
      const b = await open();
      const N = 40;
      const budgets = [agent(N * 10), key(N * 5)];
      const results = await Promise.all(Array.from({ length: 3 * N }, (_, i) => (i % 2 ? a : b).reserve("acct", `r${i}`, 5, MINUTE, i % 3 ? [budgets[0]] : budgets)));
      const admitted = results.map((r, i) => (r.ok ? i : -1)).filter((i) => i >= 0);
      expect(admitted.length).toBe(2 * N);
      await Promise.all(admitted.map((i) => (i % 2 ? b : a).settle("acct", `r${i}`, 5)));
      const [agentState, keyState] = await a.getBudgets!("acct", budgets);
      expect(agentState).toMatchObject({ spent_micros: N * 10, reserved_micros: 0 });
      expect(keyState.spent_micros).toBeLessThanOrEqual(N * 5);
      expect(await a.getBalance("acct")).toEqual({ balance_micros: 1_000_000 - N * 10, reserved_micros: 0 });
    });
  });
}
