import { signAdminToken } from "../src/admin/token";
import { createGateway, echo } from "../src/index";
import type { BalanceState } from "../src/stores/atomics";
import { ledgerLines, ledgerSum } from "./_billing";
import { startGatewayProcess, type GatewayProcess } from "./_processes";
import { ADMIN_SECRET } from "./_setup";

// Output only, 1 micro-USD a token, holds of 500: a stream of 300 short words (about 325
// tokens, 30 s at echo's 100 ms a word) never overruns its hold, and "next" (1 token) is
// the continuation's charge.
const MODELS = { "echo/echo": { inputPerMTok: 0, outputPerMTok: 1, maxOutputTokens: 500 } };
export const CRASH_HOLD_MICROS = 500;
const FIRST_TURN_MICROS = 2; // "hello": 5 characters, 2 tokens
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const words = (count: number) => Array.from({ length: count }, (_, i) => `w${i}`).join(" ");

export interface CrashOptions {
  redisUrl: string;
  /** Leases and holds of both processes; unset: the gateway's default. */
  holdTtlMs?: number;
  /** Threads with a paid stream in flight on the killed process. */
  threads: number;
  /** How long the streams run on the doomed process before `kill -9` (less than 30 s). */
  runBeforeKillMs: number;
  /** Give up waiting for the recovery after this long. */
  timeoutMs: number;
}

/** What the survivor saw, before and after its twin was killed. */
export interface CrashReport {
  accountId: string;
  threadIds: string[];
  /** Credited so that the streams' holds take every micro-USD. */
  creditedMicros: number;
  reservedBeforeKill: number;
  /** The survivor's answers on each busy thread, just before and just after the kill. */
  busyBeforeKill: number[];
  busyAfterKill: number[];
  /** From `kill -9` to `reserved_micros` 0, and to every thread continued (200). */
  releasedAfterMs?: number;
  threadsFreeAfterMs?: number;
  /** Every status the survivor answered while the threads were still held (409, 402). */
  statusesWhileHeld: number[];
  /** The lowest balance, and balance minus reserved, seen through the survivor. */
  lowestBalance: number;
  lowestAvailable: number;
  final: BalanceState;
  ledgerSum: number;
  charges: number;
  /** Each thread's user messages as stored afterwards. */
  threadTurns: string[][];
  survivorAlive: boolean;
  survivorStderr: string;
}

/**
 * Two gateway processes on one Redis: paid streams run on threads through the first,
 * which is killed with SIGKILL mid-stream; the second is watched until the holds are
 * released and every thread can be continued.
 */
export async function runCrash(options: CrashOptions): Promise<CrashReport> {
  const prefix = `crash-${process.pid}-${Date.now().toString(36)}:`;
  const env: Record<string, string> = {
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: prefix,
    ADMIN_SECRET,
    ECHO_DELAY_MS: "100",
    GATEWAY_OPTIONS: JSON.stringify({ models: MODELS }),
    ...(options.holdTtlMs !== undefined && { HOLD_TTL_MS: String(options.holdTtlMs) }),
  };
  const [doomed, survivor] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
  // In this process, only to seed the account and to read the ledger and threads.
  const local = createGateway({ redis: options.redisUrl, redisPrefix: prefix, providers: [echo()], models: MODELS, logger: { warn() {}, error() {} } });
  try {
    return await crash(options, doomed, survivor, local);
  } finally {
    await Promise.all([doomed.stop(), survivor.stop()]);
    await local.close();
  }
}

async function crash(options: CrashOptions, doomed: GatewayProcess, survivor: GatewayProcess, local: ReturnType<typeof createGateway>): Promise<CrashReport> {
  const accountId = `acct_crash_${Date.now()}`;
  const agent = await local.admin.createAgent(accountId, { name: "Crash" });
  const { key } = await local.admin.createKey(accountId, agent.id, { name: "k" });
  const creditedMicros = options.threads * (CRASH_HOLD_MICROS + FIRST_TURN_MICROS);
  await local.admin.credit(accountId, creditedMicros);
  const admin = await signAdminToken(ADMIN_SECRET, accountId, { expiresIn: "1h" });

  let lowestBalance = Infinity;
  let lowestAvailable = Infinity;
  const billing = async (): Promise<BalanceState> => {
    const state = (await (await fetch(`${survivor.origin}/api/admin/billing`, { headers: { authorization: `Bearer ${admin}` } })).json()) as BalanceState;
    lowestBalance = Math.min(lowestBalance, state.balance_micros);
    lowestAvailable = Math.min(lowestAvailable, state.balance_micros - state.reserved_micros);
    return state;
  };
  const chat = (p: GatewayProcess, body: object) =>
    fetch(`${p.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "echo/echo", ...body }) });
  const probe = async (threadId: string) => {
    const res = await chat(survivor, { thread_id: threadId, messages: [{ role: "user", content: "next" }] });
    await res.arrayBuffer();
    return res.status;
  };

  const threadIds: string[] = [];
  for (let i = 0; i < options.threads; i++) {
    const res = await chat(survivor, { messages: [{ role: "user", content: "hello" }] });
    threadIds.push(((await res.json()) as { thread_id: string }).thread_id);
  }

  // The streams, each read past its first bytes; their connections die with the process.
  await Promise.all(
    threadIds.map(async (threadId) => {
      const res = await chat(doomed, { stream: true, thread_id: threadId, messages: [{ role: "user", content: words(300) }] });
      if (res.status !== 200) throw new Error(`a stream on the doomed process answered ${res.status}: ${await res.text()}`);
      const reader = res.body!.getReader();
      await reader.read();
      void (async () => {
        while (!(await reader.read()).done);
      })().catch(() => {});
    }),
  );
  await sleep(options.runBeforeKillMs);
  const busyBeforeKill = await Promise.all(threadIds.map(probe));
  const reservedBeforeKill = (await billing()).reserved_micros;

  const killedAt = performance.now();
  doomed.child.kill("SIGKILL");
  const busyAfterKill = await Promise.all(threadIds.map(probe));

  let releasedAfterMs: number | undefined;
  let threadsFreeAfterMs: number | undefined;
  const statusesWhileHeld: number[] = [];
  const free = new Set<string>();
  while (performance.now() - killedAt < options.timeoutMs && (releasedAfterMs === undefined || threadsFreeAfterMs === undefined)) {
    // Read while no probe runs, so only the dead process's holds can count.
    if (releasedAfterMs === undefined && (await billing()).reserved_micros === 0) releasedAfterMs = performance.now() - killedAt;
    for (const threadId of threadIds.filter((id) => !free.has(id))) {
      const status = await probe(threadId);
      if (status === 200) free.add(threadId);
      else statusesWhileHeld.push(status);
    }
    if (threadsFreeAfterMs === undefined && free.size === threadIds.length) threadsFreeAfterMs = performance.now() - killedAt;
    await sleep(100);
  }

  const threadTurns = await Promise.all(
    threadIds.map(async (id) => (await local.admin.getThread(accountId, id)).messages.filter((m) => m.role === "user").map((m) => String(m.content))),
  );
  return {
    accountId,
    threadIds,
    creditedMicros,
    reservedBeforeKill,
    busyBeforeKill,
    busyAfterKill,
    releasedAfterMs,
    threadsFreeAfterMs,
    statusesWhileHeld,
    lowestBalance,
    lowestAvailable,
    final: await billing(),
    ledgerSum: await ledgerSum(local, accountId),
    charges: (await ledgerLines(local, accountId)).filter((entry) => entry.type === "charge").length,
    threadTurns,
    survivorAlive: survivor.child.exitCode === null,
    survivorStderr: survivor.stderr(),
  };
}
