import { describe, expect, it } from "vitest";
import { batchedForget } from "../../src/stores/batched-forget";

describe("forgetting landed lines in batches", () => {
  const recorder = () => {
    const calls: Array<[string, string[]]> = [];
    return { calls, forget: async (accountId: string, ids: string[]) => void calls.push([accountId, [...ids]]) };
  };

  it("sends the ids one account forgets within the delay as one call, and each caller's promise settles with it", async () => {
    const r = recorder();
    const batches = batchedForget(r.forget, 10);
    const done = [batches.forget("a", ["1"]), batches.forget("a", ["2", "3"]), batches.forget("b", ["9"])];
    expect(r.calls).toEqual([]);
    await Promise.all(done);
    expect(r.calls).toEqual([
      ["a", ["1", "2", "3"]],
      ["b", ["9"]],
    ]);
    await batches.forget("a", ["4"]);
    expect(r.calls.at(-1)).toEqual(["a", ["4"]]);
  });

  it("sends a full batch at once and starts the next, and sends nothing for no ids", async () => {
    const r = recorder();
    const batches = batchedForget(r.forget, 60_000);
    const ids = Array.from({ length: 200 }, (_, i) => `l${i}`);
    await batches.forget("a", ids);
    expect(r.calls).toEqual([["a", ids]]);
    await batches.forget("a", []);
    const next = batches.forget("a", ["x"]);
    await batches.flush();
    await next;
    expect(r.calls).toEqual([["a", ids], ["a", ["x"]]]);
  });

  it("passes a failed call on to every caller of its batch, and the next batch is a new one", async () => {
    let fail = true;
    const batches = batchedForget(async () => {
      if (fail) throw new Error("Redis is down");
    }, 5);
    const a = batches.forget("a", ["1"]);
    const b = batches.forget("a", ["2"]);
    await expect(a).rejects.toThrow("Redis is down");
    await expect(b).rejects.toThrow("Redis is down");
    fail = false;
    await expect(batches.forget("a", ["3"])).resolves.toBeUndefined();
  });
});
