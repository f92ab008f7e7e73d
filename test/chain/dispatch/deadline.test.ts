import { describe, expect, it } from "vitest";
import { createDeadline } from "../../../src/chain/dispatch/deadline";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the upstream deadline", () => {
  it("never cuts what keeps being touched, and cuts it once it falls silent for the whole time", async () => {
    const deadline = createDeadline(100);
    const started = Date.now();
    let silentFrom = started;
    while (Date.now() - started < 350) {
      deadline.touch();
      silentFrom = Date.now();
      await sleep(30);
    }
    expect(deadline.signal.aborted).toBe(false);
    await new Promise((resolve) => deadline.signal.addEventListener("abort", resolve, { once: true }));
    expect(Date.now() - silentFrom).toBeGreaterThanOrEqual(90);
    expect(deadline.timedOut).toBe(true);
    expect((deadline.signal.reason as DOMException).name).toBe("TimeoutError");
  });

  it("does not fire once cleared, and follows the client's signal without calling it a timeout", async () => {
    const cleared = createDeadline(30);
    cleared.clear();
    await sleep(60);
    expect(cleared.signal.aborted).toBe(false);

    const client = new AbortController();
    const deadline = createDeadline(10_000, client.signal);
    client.abort(new Error("left"));
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.timedOut).toBe(false);
    deadline.clear();
  });
});
