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

/**
 * On the first start: a demo account with credit, a demo agent and one key. The key is
 * returned only then (it is never stored); later starts return `key: undefined`.
 */
export async function seedPlayground(gateway: Gateway): Promise<PlaygroundState & { key?: string }> {
  const storage = gateway.records.storage;
  const existing = await storage.getItem<PlaygroundState>(STATE_KEY);
  if (existing) return existing;
  const agent = await gateway.admin.createAgent(DEMO_ACCOUNT, {
    name: "Demo agent",
    instructions: "You are a helpful assistant working for the agentgate demo team.",
  });
  const key = await gateway.admin.createKey(DEMO_ACCOUNT, agent.id, { name: "Demo key" });
  await gateway.admin.credit(DEMO_ACCOUNT, DEMO_CREDIT_MICROS);
  const state: PlaygroundState = { accountId: DEMO_ACCOUNT, agentId: agent.id };
  await storage.setItem(STATE_KEY, state);
  return { ...state, key: key.key };
}
