import type { Gateway } from "../src/index";

/** What the first start created, kept in storage so later starts find it. */
export interface PlaygroundState {
  accountId: string;
  agentId: string;
}

const STATE_KEY = "playground:state";
export const DEMO_ACCOUNT = "acct_demo";
/** $5 of demo credit: plenty for the echo model, enough to try a real one. */
export const DEMO_CREDIT_MICROS = 5_000_000;
/** Names the demo credit, so a repeat within a process (or on Redis, within a day) credits nothing more. */
const DEMO_CREDIT_KEY = "playground-demo-credit";

/**
 * On the first start: a demo account with credit, a demo agent and one key. The key is
 * returned only then (it is never stored); later starts return `key: undefined`.
 *
 * Resumable: the state is written last, and until it is, each step first looks at what
 * a start that died part way left behind (nobody else could have used the demo account:
 * the server listens only after this). So a rerun ends with one agent, one credit and
 * one key, printed.
 */
export async function seedPlayground(gateway: Gateway): Promise<PlaygroundState & { key?: string }> {
  const { admin } = gateway;
  const storage = gateway.records.storage;
  const existing = await storage.getItem<PlaygroundState>(STATE_KEY);
  if (existing) {
    // Not data: a storage failure resolved as a value, or a torn file.
    if (typeof existing.accountId !== "string" || typeof existing.agentId !== "string") throw new Error(`[playground] ${STATE_KEY} in storage is unreadable; remove it to finish the seed again (the demo key is then replaced)`);
    return existing;
  }

  const agents = (await admin.listAgents(DEMO_ACCOUNT)).data;
  const agent =
    agents[0] ??
    (await admin.createAgent(DEMO_ACCOUNT, {
      name: "Demo agent",
      instructions: "You are a helpful assistant working for the agentgate demo team.",
    }));
  // Only an older start that died could have left a second one.
  for (const extra of agents.slice(1)) await admin.deleteAgent(DEMO_ACCOUNT, extra.id);

  // In-process atomics forget idempotency keys on restart: the balance tells whether an
  // earlier start credited (nothing is spent before the server listens).
  if ((await admin.getBilling(DEMO_ACCOUNT)).balance_micros === 0) {
    await admin.credit(DEMO_ACCOUNT, DEMO_CREDIT_MICROS, { idempotencyKey: DEMO_CREDIT_KEY });
  }

  // A key an earlier start created was never shown: revoke it, and show a new one.
  for (const old of (await admin.listKeys(DEMO_ACCOUNT, agent.id)).data) await admin.deleteKey(DEMO_ACCOUNT, agent.id, old.id);
  const key = await admin.createKey(DEMO_ACCOUNT, agent.id, { name: "Demo key" });

  const state: PlaygroundState = { accountId: DEMO_ACCOUNT, agentId: agent.id };
  await storage.setItem(STATE_KEY, state);
  return { ...state, key: key.key };
}
