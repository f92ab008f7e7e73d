import { describe, expect, it } from "vitest";
import { createHeartbeats } from "../../src/chain/heartbeat";
import { saveTurn } from "../../src/chain/thread-save";
import type { GatewayRuntime } from "../../src/runtime";
import { createMemoryAtomics } from "../../src/stores/memory-atomics";
import { createRecords, type AgentRecord, type ThreadRecord } from "../../src/stores/records";
import { createRetryQueue } from "../../src/stores/retry-queue";
import { flakyStorage } from "../_flaky-storage";

const agent = { id: "agt_1", account_id: "acct_1" } as AgentRecord;
const quiet = { warn() {}, error() {} };
const turn = (content: string) => ({ role: "user" as const, content });
const contents = (thread: ThreadRecord | null) => thread?.messages.map((m) => m.content) ?? [];

/** The parts saveTurn uses, real ones: records over a storage whose writes fail on demand, in-process leases, a fast retry queue. */
function parts() {
  const flaky = flakyStorage();
  const records = createRecords(flaky.storage);
  const atomics = createMemoryAtomics({ records });
  const runtime = {
    atomics,
    records,
    threads: { ttlSeconds: 3600, maxMessages: 100, truncation: "auto" },
    holdTtlMs: 1000,
    heartbeats: createHeartbeats({ ttlMs: 1000, logger: quiet }),
    retries: createRetryQueue({ logger: quiet, maxAgeMs: 60_000, minDelayMs: 20, maxDelayMs: 40 }),
    logger: quiet,
  } as unknown as GatewayRuntime;
  return { flaky, records, atomics, runtime };
}

/**
 * A thread with turn one; turn two's save fails (storage down) and waits for its retries;
 * then its lease lapses (given up by its token here, as expiry would). Storage stays down.
 */
async function turnTwoWaiting(p: ReturnType<typeof parts>, threadId: string) {
  const lease = `agt_1:${threadId}`;
  const now = new Date().toISOString();
  await p.records.putThread({ id: threadId, agent_id: agent.id, account_id: agent.account_id, created_at: now, updated_at: now, messages: [turn("one"), { role: "assistant", content: "one" }] });
  const stored = await p.records.getThread(threadId);
  expect(await p.atomics.acquireLease(lease, "tok_2", 1000)).toBe(true);
  p.flaky.fail(true);
  await saveTurn(p.runtime, { agent, threadId, leaseName: lease, leaseToken: "tok_2", stored, newMessages: [turn("two")], leaseHeld: true }, { role: "assistant", content: "two", refusal: null });
  await p.atomics.releaseLease(lease, "tok_2");
  return { lease, stored };
}

describe("saving a turn", () => {
  it("never writes the thread as first read once its lease lapsed, even after taking the lease back and failing again", async () => {
    const p = parts();
    const { flaky, records, atomics, runtime } = p;
    const { lease, stored } = await turnTwoWaiting(p, "thread_1");
    // Turn three is saved meanwhile.
    expect(await atomics.acquireLease(lease, "tok_3", 1000)).toBe(true);
    flaky.fail(false);
    await records.putThread({ ...stored!, updated_at: new Date(Date.now() + 1).toISOString(), messages: [...stored!.messages, turn("three"), { role: "assistant", content: "three" }] }, stored);
    await atomics.releaseLease(lease, "tok_3");
    // Storage fails again: turn two takes the lease back, reads, and fails to write.
    flaky.fail(true);
    const heldByTurnTwo = async () => {
      if (!(await atomics.acquireLease(lease, "probe", 1000))) return true;
      await atomics.releaseLease(lease, "probe");
      return false;
    };
    await expect.poll(heldByTurnTwo).toBe(true);
    flaky.fail(false);

    await expect.poll(async () => contents(await records.getThread("thread_1")).length).toBe(6);
    expect(contents(await records.getThread("thread_1"))).toEqual(["one", "one", "three", "three", "two", "two"]);
    // And the lease is free again.
    await expect.poll(() => atomics.acquireLease(lease, "after", 1000)).toBe(true);
    runtime.heartbeats.close();
    await runtime.retries.close();
  });

  it("never appends a turn twice when a late write landed but its answer was lost", async () => {
    const p = parts();
    const { flaky, records, atomics, runtime } = p;
    const { lease } = await turnTwoWaiting(p, "thread_2");
    // The late save takes the lease back, and its writes land with their answers lost.
    flaky.fail(false);
    flaky.loseAnswers(true);
    await expect.poll(async () => contents(await records.getThread("thread_2")).length).toBe(4);
    flaky.loseAnswers(false);
    await expect.poll(() => atomics.acquireLease(lease, "after", 1000)).toBe(true);
    expect(contents(await records.getThread("thread_2"))).toEqual(["one", "one", "two", "two"]);
    runtime.heartbeats.close();
    await runtime.retries.close();
  });
});
