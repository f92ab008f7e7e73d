import { afterAll, describe, expect, it } from "vitest";
import type { Atomics, RateWindow } from "../../src/stores/atomics";

/**
 * Returns a handle on the state named `namespace`: two calls with the same namespace
 * must share rate windows, balances and leases (for Redis: two clients on one prefix),
 * so the concurrency tests really race two handles.
 */
export type AtomicsFactory = (namespace: string) => Atomics | Promise<Atomics>;

const MINUTE = 60_000;
const T0 = 1_765_432_109_876; // a realistic epoch time: float drift shows at this magnitude
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const requests = (limit: number, name = "requests"): RateWindow => ({ name, limit, periodMs: MINUTE, cost: 1 });

/** The behaviour every atomics driver must have, concurrency included. */
export function testAtomics(name: string, factory: AtomicsFactory): void {
  describe(`atomics conformance: ${name}`, () => {
    const opened: Atomics[] = [];
    let counter = 0;
    const fresh = async () => {
      const namespace = `ns${process.pid}x${counter++}x${Math.random().toString(36).slice(2, 8)}`;
      const open = async () => {
        const atomics = await factory(namespace);
        opened.push(atomics);
        return atomics;
      };
      return { a: await open(), open };
    };
    afterAll(async () => {
      await Promise.all(opened.map((atomics) => atomics.close()));
    });

    describe("rate windows (GCRA)", () => {
      it("admits a burst of exactly the limit, then refuses with the time until the next slot", async () => {
        const { a } = await fresh();
        const remaining: number[] = [];
        for (let i = 0; i < 5; i++) {
          const decision = await a.hitRate("agent1", [requests(5)], T0);
          expect(decision.allowed).toBe(true);
          remaining.push(decision.windows[0].remaining);
        }
        expect(remaining).toEqual([4, 3, 2, 1, 0]);
        const refused = await a.hitRate("agent1", [requests(5)], T0);
        expect(refused).toEqual({ allowed: false, retryAfterMs: 12_000, windows: [{ name: "requests", limit: 5, remaining: 0, resetMs: 60_000 }] });
        expect((await a.hitRate("agent1", [requests(5)], T0 + 11_999)).allowed).toBe(false);
        const later = await a.hitRate("agent1", [requests(5)], T0 + 12_000);
        expect(later.allowed).toBe(true);
        expect(later.windows[0]).toMatchObject({ remaining: 0, resetMs: 60_000 });
      });

      it("recovers over time: a full minute later the whole burst is back", async () => {
        const { a } = await fresh();
        for (let i = 0; i < 3; i++) await a.hitRate("agent1", [requests(3)], T0);
        expect((await a.hitRate("agent1", [requests(3)], T0 + 30_000)).windows[0].remaining).toBe(0);
        let admitted = 0;
        for (let i = 0; i < 5; i++) if ((await a.hitRate("agent1", [requests(3)], T0 + 30_000 + MINUTE)).allowed) admitted++;
        expect(admitted).toBe(3);
      });

      it("never loses the last hit of a burst to float rounding (limits 7, 9, 13, 97, 1000)", async () => {
        const { a } = await fresh();
        for (const limit of [7, 9, 13, 97, 1000]) {
          let admitted = 0;
          for (let i = 0; i <= limit; i++) if ((await a.hitRate(`agent-${limit}`, [requests(limit)], T0 + 3)).allowed) admitted++;
          expect(admitted).toBe(limit);
        }
      });

      it("charges all windows or none", async () => {
        const { a } = await fresh();
        const tight = requests(2, "key:requests");
        const loose = requests(5, "agent:requests");
        expect((await a.hitRate("agent1", [tight, loose], T0)).allowed).toBe(true);
        expect((await a.hitRate("agent1", [tight, loose], T0)).allowed).toBe(true);
        const refused = await a.hitRate("agent1", [tight, loose], T0);
        expect(refused.allowed).toBe(false);
        // The loose window was not charged by the refused hit: it still has exactly 3.
        expect(refused.windows.map((w) => w.remaining)).toEqual([0, 3]);
        let admitted = 0;
        for (let i = 0; i < 5; i++) if ((await a.hitRate("agent1", [loose], T0)).allowed) admitted++;
        expect(admitted).toBe(3);
      });

      it("counts tokens by cost and reports what is left", async () => {
        const { a } = await fresh();
        const tokens = (cost: number): RateWindow => ({ name: "tokens", limit: 100, periodMs: MINUTE, cost });
        const first = await a.hitRate("agent1", [tokens(60)], T0);
        expect(first.windows[0]).toMatchObject({ remaining: 40, resetMs: 36_000 });
        const refused = await a.hitRate("agent1", [tokens(60)], T0);
        expect(refused.allowed).toBe(false);
        expect(refused.retryAfterMs).toBe(12_000);
        expect(refused.windows[0].remaining).toBe(40);
        expect((await a.hitRate("agent1", [tokens(40)], T0)).allowed).toBe(true);
        expect((await a.hitRate("agent1", [tokens(60)], T0 + 36_000)).allowed).toBe(true);
      });

      it("chargeRate adds cost without checking, and later hits pay for it", async () => {
        const { a } = await fresh();
        const tokens = (cost: number): RateWindow => ({ name: "tokens", limit: 100, periodMs: MINUTE, cost });
        await a.chargeRate("agent1", [tokens(150)], T0);
        const refused = await a.hitRate("agent1", [tokens(1)], T0);
        expect(refused.allowed).toBe(false);
        expect(refused.retryAfterMs).toBe(30_600);
        expect((await a.hitRate("agent1", [tokens(1)], T0 + 30_600)).allowed).toBe(true);
      });

      it("keeps scopes apart, and counts what was used against a raised limit", async () => {
        const { a } = await fresh();
        for (let i = 0; i < 2; i++) expect((await a.hitRate("agentA", [requests(2)], T0)).allowed).toBe(true);
        expect((await a.hitRate("agentA", [requests(2)], T0)).allowed).toBe(false);
        expect((await a.hitRate("agentB", [requests(2)], T0)).allowed).toBe(true);
        // Raised from 2 to 5 per minute: 2 were used, 3 are left at once.
        const raised = await a.hitRate("agentA", [requests(5)], T0);
        expect(raised.allowed).toBe(true);
        expect(raised.windows[0].remaining).toBe(2);
        for (let i = 0; i < 2; i++) expect((await a.hitRate("agentA", [requests(5)], T0)).allowed).toBe(true);
        expect((await a.hitRate("agentA", [requests(5)], T0)).allowed).toBe(false);
      });

      it("treats a window over a lowered limit as full, not as owing more than a period", async () => {
        const { a } = await fresh();
        for (let i = 0; i < 10; i++) expect((await a.hitRate("agentA", [requests(10)], T0)).allowed).toBe(true);
        // Lowered from 10 to 2 per minute: full, and free again a period later at the latest.
        const lowered = await a.hitRate("agentA", [requests(2)], T0);
        expect(lowered.allowed).toBe(false);
        expect(lowered.retryAfterMs).toBe(30_000);
        expect((await a.hitRate("agentA", [requests(2)], T0 + 30_000)).allowed).toBe(true);
      });

      it("uses its own clock when no time is given", async () => {
        const { a } = await fresh();
        const window: RateWindow = { name: "fast", limit: 2, periodMs: 200, cost: 1 };
        expect((await a.hitRate("agent1", [window])).allowed).toBe(true);
        expect((await a.hitRate("agent1", [window])).allowed).toBe(true);
        const refused = await a.hitRate("agent1", [window]);
        expect(refused.allowed).toBe(false);
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(100);
        await sleep(refused.retryAfterMs + 20);
        expect((await a.hitRate("agent1", [window])).allowed).toBe(true);
      });
    });

    describe("balances", () => {
      it("starts at zero, and a credit counts for the very next reservation", async () => {
        const { a } = await fresh();
        expect(await a.getBalance("acct")).toEqual({ balance_micros: 0, reserved_micros: 0 });
        expect((await a.reserve("acct", "r1", 1, MINUTE)).ok).toBe(false);
        expect(await a.credit("acct", 500)).toEqual({ balance_micros: 500, reserved_micros: 0 });
        expect(await a.reserve("acct", "r1", 500, MINUTE)).toEqual({ ok: true, balance_micros: 500, reserved_micros: 500 });
      });

      it("holds reservations, settles the real charge and releases the rest", async () => {
        const { a } = await fresh();
        await a.credit("acct", 1000);
        expect(await a.reserve("acct", "r1", 600, MINUTE)).toEqual({ ok: true, balance_micros: 1000, reserved_micros: 600 });
        expect(await a.reserve("acct", "r2", 500, MINUTE)).toEqual({ ok: false, balance_micros: 1000, reserved_micros: 600 });
        expect(await a.settle("acct", "r1", 450)).toEqual({ charged_micros: 450, balance_micros: 550, reserved_micros: 0 });
        expect((await a.reserve("acct", "r2", 500, MINUTE)).ok).toBe(true);
        expect(await a.settle("acct", "r2", 0)).toEqual({ charged_micros: 0, balance_micros: 550, reserved_micros: 0 });
      });

      it("never charges more than the balance", async () => {
        const { a } = await fresh();
        await a.credit("acct", 100);
        await a.reserve("acct", "r1", 100, MINUTE);
        expect(await a.settle("acct", "r1", 250)).toEqual({ charged_micros: 100, balance_micros: 0, reserved_micros: 0 });
        expect(await a.settle("acct", "r-unknown", 10)).toEqual({ charged_micros: 0, balance_micros: 0, reserved_micros: 0 });
      });

      it("charges an overrun only from what no other reservation holds", async () => {
        const { a } = await fresh();
        await a.credit("acct", 1000);
        await a.reserve("acct", "small", 100, MINUTE);
        await a.reserve("acct", "other", 700, MINUTE);
        // "small" cost 500, more than it held: it takes its 100 and the 200 nobody holds.
        expect(await a.settle("acct", "small", 500)).toEqual({ charged_micros: 300, balance_micros: 700, reserved_micros: 700 });
        expect(await a.settle("acct", "other", 700)).toEqual({ charged_micros: 700, balance_micros: 0, reserved_micros: 0 });
      });

      it("charges nothing for a reservation it does not hold (never made, expired, lost), and answers a repeat the same", async () => {
        const { a, open } = await fresh();
        const b = await open();
        await a.credit("acct", 100);
        expect(await a.settle("acct", "never-reserved", 30)).toEqual({ charged_micros: 0, balance_micros: 100, reserved_micros: 0 });
        await a.reserve("acct", "expired", 50, 60);
        await sleep(120);
        expect(await b.settle("acct", "expired", 30)).toEqual({ charged_micros: 0, balance_micros: 100, reserved_micros: 0 });
        // A hold made after the first settle of its id does not make a retry charge.
        await a.reserve("acct", "never-reserved", 30, MINUTE);
        expect((await b.settle("acct", "never-reserved", 30)).charged_micros).toBe(0);
      });

      it("settles a reservation once: a retried settle charges nothing more", async () => {
        const { a } = await fresh();
        await a.credit("acct", 1000);
        await a.reserve("acct", "r1", 300, MINUTE);
        expect((await a.settle("acct", "r1", 200)).charged_micros).toBe(200);
        expect(await a.settle("acct", "r1", 200)).toEqual({ charged_micros: 200, balance_micros: 800, reserved_micros: 0 });
        expect((await a.getBalance("acct")).balance_micros).toBe(800);
      });

      it("holds a repeated reservation id once", async () => {
        const { a } = await fresh();
        await a.credit("acct", 1000);
        await a.reserve("acct", "r1", 300, MINUTE);
        expect(await a.reserve("acct", "r1", 300, MINUTE)).toEqual({ ok: true, balance_micros: 1000, reserved_micros: 300 });
      });

      it("sweeps expired reservations, so a crashed instance leaks nothing", async () => {
        const { a } = await fresh();
        await a.credit("acct", 1000);
        await a.reserve("acct", "crashed", 900, 60);
        expect((await a.reserve("acct", "r2", 500, MINUTE)).ok).toBe(false);
        await sleep(120);
        expect(await a.getBalance("acct")).toEqual({ balance_micros: 1000, reserved_micros: 0 });
        expect((await a.reserve("acct", "r2", 500, MINUTE)).ok).toBe(true);
        // A late settle of the expired hold (a retry after a crash or an outage) charges nothing.
        expect(await a.settle("acct", "crashed", 100)).toEqual({ charged_micros: 0, balance_micros: 1000, reserved_micros: 500 });
      });

      it("keeps what is held exact while holds come, settle and expire side by side", async () => {
        const { a } = await fresh();
        await a.credit("acct", 10_000);
        for (let i = 1; i <= 10; i++) await a.reserve("acct", `r${i}`, 10 * i, MINUTE);
        // Short, yet long enough to outlast the steps before its expiry on a loaded machine.
        const start = performance.now();
        await a.reserve("acct", "short", 500, 600);
        expect((await a.getBalance("acct")).reserved_micros).toBe(550 + 500);
        for (let i = 1; i <= 5; i++) await a.settle("acct", `r${i}`, i);
        expect(await a.getBalance("acct")).toEqual({ balance_micros: 10_000 - 15, reserved_micros: 400 + 500 });
        await sleep(700 - (performance.now() - start)); // the short hold expires; the others stay
        expect((await a.getBalance("acct")).reserved_micros).toBe(400);
        expect((await a.reserve("acct", "r11", 9_585, MINUTE)).ok).toBe(true); // exactly what is free
        expect((await a.reserve("acct", "r12", 1, MINUTE)).ok).toBe(false);
        expect(await a.settle("acct", "r6", 60)).toEqual({ charged_micros: 60, balance_micros: 10_000 - 75, reserved_micros: 9_585 + 340 });
      });

      it("renews a live hold, so it outlives its first TTL and settles as usual", async () => {
        const { a, open } = await fresh();
        const b = await open();
        await a.credit("acct", 1000);
        // TTLs with room for a busy machine's late timers (a 150 ms margin once failed under a loaded CI; 900 now).
        const start = performance.now();
        await a.reserve("acct", "long", 900, 1_000);
        await sleep(100);
        expect(await b.renewHold("acct", "long", 3_000)).toBe(true);
        await sleep(1_100 - (performance.now() - start)); // past the first TTL, within the renewed one
        expect(await a.getBalance("acct")).toEqual({ balance_micros: 1000, reserved_micros: 900 });
        expect((await a.reserve("acct", "r2", 500, MINUTE)).ok).toBe(false);
        expect(await b.settle("acct", "long", 400)).toEqual({ charged_micros: 400, balance_micros: 600, reserved_micros: 0 });
      });

      it("renews no hold that is gone: settled, expired, or never made", async () => {
        const { a } = await fresh();
        await a.credit("acct", 1000);
        await a.reserve("acct", "settled", 100, MINUTE);
        await a.settle("acct", "settled", 10);
        expect(await a.renewHold("acct", "settled", MINUTE)).toBe(false);
        expect(await a.renewHold("acct", "never", MINUTE)).toBe(false);
        expect(await a.renewHold("other-acct", "never", MINUTE)).toBe(false);
        await a.reserve("acct", "expired", 500, 60);
        await sleep(120);
        expect(await a.renewHold("acct", "expired", MINUTE)).toBe(false);
        // Not brought back: nothing is held, and the expired hold charges nothing.
        expect(await a.getBalance("acct")).toEqual({ balance_micros: 990, reserved_micros: 0 });
        expect((await a.settle("acct", "expired", 500)).charged_micros).toBe(0);
      });

      it("applies a credit with an id once, and answers a repeat with the first receipt", async () => {
        const { a, open } = await fresh();
        const b = await open();
        expect(await a.credit("acct", 500, { id: "pay_1", receipt: "first" })).toEqual({ balance_micros: 500, reserved_micros: 0, receipt: "first" });
        expect(await b.credit("acct", 500, { id: "pay_1", receipt: "second" })).toEqual({ balance_micros: 500, reserved_micros: 0, receipt: "first" });
        expect(await a.credit("other-acct", 500, { id: "pay_1", receipt: "third" })).toMatchObject({ balance_micros: 500, receipt: "third" });
        const racing = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).credit("acct", 7, { id: "pay_2", receipt: `r${i}` })));
        expect(new Set(racing.map((r) => r.receipt)).size).toBe(1);
        expect((await a.getBalance("acct")).balance_micros).toBe(507);
      });

      it("refuses a credit past the largest exact balance and credits nothing, not even under its id", async () => {
        const { a } = await fresh();
        await a.credit("acct", Number.MAX_SAFE_INTEGER - 10);
        await expect(a.credit("acct", 11, { id: "pay_big", receipt: "big" })).rejects.toMatchObject({ status: 400, data: { code: "invalid_request", param: "amount_micros" } });
        expect((await a.getBalance("acct")).balance_micros).toBe(Number.MAX_SAFE_INTEGER - 10);
        expect(await a.credit("acct", 10, { id: "pay_big", receipt: "fits" })).toMatchObject({ balance_micros: Number.MAX_SAFE_INTEGER, receipt: "fits" });
      });

      it("keeps accounts apart", async () => {
        const { a } = await fresh();
        await a.credit("acct-a", 100);
        expect((await a.reserve("acct-b", "r1", 1, MINUTE)).ok).toBe(false);
        expect(await a.getBalance("acct-a")).toEqual({ balance_micros: 100, reserved_micros: 0 });
      });

      it("refuses amounts that are not whole, non-negative micro-units", async () => {
        const { a } = await fresh();
        await expect(a.credit("acct", -5)).rejects.toThrow(/micro-units/);
        await expect(a.reserve("acct", "r", 1.5, MINUTE)).rejects.toThrow(/micro-units/);
        expect(await a.getBalance("acct")).toEqual({ balance_micros: 0, reserved_micros: 0 });
      });
    });

    describe("leases and intervals", () => {
      it("leases exclusively; only the holder's token releases", async () => {
        const { a } = await fresh();
        expect(await a.acquireLease("thread1", "t1", MINUTE)).toBe(true);
        expect(await a.acquireLease("thread1", "t2", MINUTE)).toBe(false);
        expect(await a.acquireLease("thread2", "t2", MINUTE)).toBe(true);
        await a.releaseLease("thread1", "t2");
        expect(await a.acquireLease("thread1", "t3", MINUTE)).toBe(false);
        await a.releaseLease("thread1", "t1");
        expect(await a.acquireLease("thread1", "t3", MINUTE)).toBe(true);
      });

      it("lets an expired lease go, and the old holder cannot release the new one", async () => {
        const { a } = await fresh();
        expect(await a.acquireLease("thread1", "old", 60)).toBe(true);
        await sleep(120);
        expect(await a.acquireLease("thread1", "new", MINUTE)).toBe(true);
        await a.releaseLease("thread1", "old");
        expect(await a.acquireLease("thread1", "third", MINUTE)).toBe(false);
      });

      it("renews a lease for its holder only, so it outlives its first TTL", async () => {
        const { a, open } = await fresh();
        const b = await open();
        // TTLs with room for a busy machine's late timers, as above.
        const start = performance.now();
        expect(await a.acquireLease("thread1", "holder", 1_000)).toBe(true);
        expect(await b.renewLease("thread1", "someone-else", MINUTE)).toBe(false);
        await sleep(100);
        expect(await b.renewLease("thread1", "holder", 3_000)).toBe(true);
        await sleep(1_100 - (performance.now() - start)); // past the first TTL, within the renewed one
        expect(await a.acquireLease("thread1", "next", MINUTE)).toBe(false);
        await a.releaseLease("thread1", "holder");
        expect(await a.acquireLease("thread1", "next", MINUTE)).toBe(true);
      });

      it("renews no lease that is gone: released, expired, taken by another, or never taken", async () => {
        const { a } = await fresh();
        expect(await a.renewLease("never", "t", MINUTE)).toBe(false);
        await a.acquireLease("released", "t", MINUTE);
        await a.releaseLease("released", "t");
        expect(await a.renewLease("released", "t", MINUTE)).toBe(false);
        await a.acquireLease("expired", "old", 60);
        await sleep(120);
        expect(await a.renewLease("expired", "old", MINUTE)).toBe(false);
        expect(await a.acquireLease("expired", "new", MINUTE)).toBe(true);
        expect(await a.renewLease("expired", "old", MINUTE)).toBe(false);
        expect(await a.renewLease("expired", "new", MINUTE)).toBe(true);
      });

      it("claims an interval once per period per name", async () => {
        const { a } = await fresh();
        expect(await a.claimInterval("last-used:k1", 100)).toBe(true);
        expect(await a.claimInterval("last-used:k1", 100)).toBe(false);
        expect(await a.claimInterval("last-used:k2", 100)).toBe(true);
        await sleep(150);
        expect(await a.claimInterval("last-used:k1", 100)).toBe(true);
      });
    });

    describe("concurrency (two handles on one state)", () => {
      it("admits exactly N of hundreds of concurrent reservations against a balance for N", async () => {
        const { a, open } = await fresh();
        const b = await open();
        await a.credit("acct", 100 * 7);
        const results = await Promise.all(Array.from({ length: 400 }, (_, i) => (i % 2 ? a : b).reserve("acct", `r${i}`, 7, MINUTE)));
        expect(results.filter((r) => r.ok)).toHaveLength(100);
        expect(await b.getBalance("acct")).toEqual({ balance_micros: 700, reserved_micros: 700 });
        // Settling them all at once charges each exactly once.
        const ok = results.map((r, i) => (r.ok ? i : -1)).filter((i) => i >= 0);
        await Promise.all(ok.map((i) => (i % 3 ? a : b).settle("acct", `r${i}`, 5)));
        expect(await a.getBalance("acct")).toEqual({ balance_micros: 200, reserved_micros: 0 });
      });

      it("admits exactly the limit of hundreds of concurrent rate hits", async () => {
        const { a, open } = await fresh();
        const b = await open();
        const windows = [requests(50, "agent:requests"), requests(80, "key:requests")];
        const results = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).hitRate("agent1", windows, T0)));
        expect(results.filter((r) => r.allowed)).toHaveLength(50);
        const key = await a.hitRate("agent1", [requests(80, "key:requests")], T0 + 7);
        expect(key.windows[0].remaining).toBe(80 - 50 - 1);
      });

      it("adds up concurrent credits and charges exactly", async () => {
        const { a, open } = await fresh();
        const b = await open();
        await a.credit("acct", 150);
        for (let i = 0; i < 50; i++) await (i % 2 ? a : b).reserve("acct", `s${i}`, 3, MINUTE);
        await Promise.all([
          ...Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).credit("acct", 7)),
          ...Array.from({ length: 50 }, (_, i) => (i % 2 ? b : a).settle("acct", `s${i}`, 3)),
        ]);
        expect(await a.getBalance("acct")).toEqual({ balance_micros: 150 + 700 - 150, reserved_micros: 0 });
        // Retried, every settle answers its first charge and takes nothing more.
        const charged = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).settle("acct", `s${i}`, 3)));
        expect(charged.reduce((sum, r) => sum + r.charged_micros, 0)).toBe(150);
        expect((await b.getBalance("acct")).balance_micros).toBe(700);
      });

      it("gives a thread's lease to exactly one of many concurrent takers", async () => {
        const { a, open } = await fresh();
        const b = await open();
        const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).acquireLease("thread1", `t${i}`, MINUTE)));
        expect(results.filter(Boolean)).toHaveLength(1);
        const claims = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).claimInterval("last-used:k", MINUTE)));
        expect(claims.filter(Boolean)).toHaveLength(1);
      });
    });
  });
}
