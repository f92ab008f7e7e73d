import type { GatewayRuntime } from "../runtime";
import type { AssistantMessage, ChatMessage } from "../schema";
import type { AgentRecord, ThreadRecord } from "../stores/records";
import { keepWhileRetried, type Heartbeat } from "./heartbeat";
import { appendToThread, ownLiveThread } from "./thread";

/** What a request knows of its thread when it saves its turn. */
export interface ThreadTurn {
  agent: AgentRecord;
  threadId: string;
  leaseName: string;
  leaseToken: string;
  /** The thread as the request read it (null: a new thread). */
  stored: ThreadRecord | null;
  newMessages: ChatMessage[];
  /** Whether the request holds the thread's lease (a new thread answered in one piece does not). */
  leaseHeld: boolean;
}

/**
 * Saves a turn and releases the thread's lease: the thread settler. The first try writes
 * the thread as the request read it with the turn appended (the lease kept it unchanged).
 * If that fails (storage or Redis down), the turn is saved in the background, and the
 * lease is kept (taken, for a new thread) and renewed until then, so a follow-up waits
 * (409) instead of reading a history without this turn. Should the lease lapse anyway (an
 * outage longer than `holdTtlMs`), the late save reads the thread again under a lease it
 * takes back, and appends the turn to what is there now: a turn another request saved
 * meanwhile is never written over, nor written twice, and a thread that existed before
 * the request and was deleted meanwhile is not brought back.
 */
export function saveTurn(runtime: GatewayRuntime, turn: ThreadTurn, reply: AssistantMessage | undefined): Promise<void> {
  const { agent, threadId, leaseName, leaseToken, stored, newMessages } = turn;
  const { atomics, records, threads } = runtime;
  let leaseHeld = turn.leaseHeld;
  let saved = !reply;
  let late: Heartbeat | undefined;
  // Renewed no longer than the retries go on (they give up after as long).
  let until: number | undefined;
  const record = reply && appendToThread(stored, agent, threadId, newMessages, reply, threads.maxMessages);
  // The versions late tries wrote beside `record` (by their times): a write that landed though its answer was lost is not made twice.
  let lateVersions: Set<string> | undefined;
  // One of ours: its time, and our reply last (a time alone may be another save's in the same millisecond).
  const wrote = (thread: ThreadRecord) =>
    (thread.updated_at === record!.updated_at || lateVersions?.has(thread.updated_at) === true) && JSON.stringify(thread.messages.at(-1)) === JSON.stringify(record!.messages.at(-1));

  // Renewed until saved or given up on; a beat whose lease lapsed stops too (none is left running).
  // A new thread whose lease could not be taken (Redis down too) takes it on a beat once
  // Redis is back, so a follow-up waits (409) instead of finding no thread (404).
  const keepLease = () => {
    if (late) return;
    until ??= Date.now() + runtime.retries.maxAgeMs;
    const renew = async (ttlMs: number) => {
      if (leaseHeld) return atomics.renewLease(leaseName, leaseToken, ttlMs);
      // Only ever set on success: a late try may be taking it at the same time.
      if (!stored && (await atomics.acquireLease(leaseName, leaseToken, ttlMs))) {
        // Taken just as the turn was saved (its release saw no lease): given back at once.
        if (saved) return atomics.releaseLease(leaseName, leaseToken).then(() => false);
        leaseHeld = true;
      }
      return leaseHeld;
    };
    late = keepWhileRetried(runtime.heartbeats, `lease of thread ${threadId} (its turn not saved yet)`, renew, () => saved, until);
  };

  // Once the lease lapsed, the thread as read is no longer the thread: never written again.
  let lapsed = false;
  const saveLate = async () => {
    const kept = leaseHeld && (await atomics.renewLease(leaseName, leaseToken, runtime.holdTtlMs));
    // Kept all along (it still renews): nothing was saved on the thread since it was read.
    if (kept && !lapsed) return records.putThread(record!, stored);
    lapsed = true;
    if (!kept) {
      // Taken back, or found ours after all (the beat of a new thread may have just taken it: the same token renews).
      leaseHeld = (await atomics.acquireLease(leaseName, leaseToken, runtime.holdTtlMs)) || (await atomics.renewLease(leaseName, leaseToken, runtime.holdTtlMs));
      if (!leaseHeld) throw new Error(`thread ${threadId} is leased by another request; its turn is saved after it`);
      // Taken back: renewed afresh (the beat of the lapsed lease has stopped).
      late?.stop();
      late = undefined;
      keepLease();
    }
    const current = ownLiveThread(await records.getThread(threadId), agent.id, threads.ttlSeconds);
    // An earlier try wrote after all (its answer was lost), or the thread (one that existed before) is gone.
    if ((current && wrote(current)) || (stored && !current)) return;
    if (!current) return records.putThread(record!, null);
    const appended = appendToThread(current, agent, threadId, newMessages, reply!, threads.maxMessages);
    (lateVersions ??= new Set()).add(appended.updated_at);
    await records.putThread(appended, current);
  };

  let tries = 0;
  return runtime.retries.attempt(`save thread ${threadId}`, async () => {
    if (!saved) {
      const first = tries++ === 0;
      try {
        await (first ? records.putThread(record!, stored) : saveLate());
      } catch (error) {
        // A new thread answered in one piece was not leased: taken now, before the answer names it.
        if (first && !leaseHeld) leaseHeld = await atomics.acquireLease(leaseName, leaseToken, runtime.holdTtlMs).catch(() => false);
        keepLease();
        throw error;
      }
      saved = true;
      late?.stop();
    }
    if (leaseHeld) await atomics.releaseLease(leaseName, leaseToken);
  });
}
