import { aliasProblems } from "../aliases";
import { writeLines } from "../chain/balance";
import { threadLeaseName } from "../stores/thread-records";
import { clip, createAPIError } from "../errors";
import { createId, createSortableId, nowISO } from "../ids";
import { generateKey } from "../keys";
import { parseTimeParam } from "./time-param";
import type { GatewayRuntime } from "../runtime";
import {
  createAgentSchema,
  createKeySchema,
  updateAgentSchema,
  type CreateAgentInput,
  type CreateKeyInput,
  type UpdateAgentInput,
  type UpdateKeyInput,
  updateKeySchema,
} from "../schema";
import type { BalanceState } from "../stores/atomics";
import type { LedgerEntry } from "../stores/ledger/types";
import type { AgentRecord, KeyRecord, ThreadRecord } from "../stores/records";
import { parseOrThrow } from "../validate";
import { budgetViews } from "./budget-views";
import { summarizeUsage, type UsageSummary, type UsageSummaryQuery } from "./usage-summary";
import { agentView, keyView, ledgerView, threadView, type AgentView, type CreatedKeyView, type KeyView, type LedgerView, type ThreadView } from "./views";

/** Filters and paging of `GET /admin/usage`, as its query string names them. */
export interface UsageQuery extends PageQuery {
  agent_id?: string;
  key_id?: string;
  model?: string;
  thread_id?: string;
  /** `charge` or `credit`. */
  type?: string;
  /** Entries at or after this time: ISO 8601 or Unix seconds. */
  since?: string;
  /** Entries before this time: ISO 8601 or Unix seconds. */
  until?: string;
}

/** Paging for lists that can grow without bound. */
export interface PageQuery {
  /** The last id of the previous page. */
  after?: string;
  /** 1 to 1000. @default 100 */
  limit?: number;
}

/** A list in OpenAI's shape. */
export interface ListOf<T> {
  object: "list";
  data: T[];
  has_more?: boolean;
}

/**
 * Every admin operation, in-process (`gateway.admin`), scoped to one account: another
 * account's object is "not found", exactly as over HTTP. Inputs are validated with the
 * same schemas as the HTTP bodies.
 */
export interface AdminOperations {
  createAgent(accountId: string, input: CreateAgentInput): Promise<AgentView>;
  listAgents(accountId: string): Promise<ListOf<AgentView>>;
  getAgent(accountId: string, agentId: string): Promise<AgentView>;
  updateAgent(accountId: string, agentId: string, patch: UpdateAgentInput): Promise<AgentView>;
  /**
   * Revokes all its keys, then deletes its threads and the agent. While a request of the
   * agent is still running on one of its threads: 409 `thread_busy` with the keys already
   * revoked (no new request can start); retry when it is done.
   */
  deleteAgent(accountId: string, agentId: string): Promise<void>;

  /** The plaintext `key` is in this result only; it is never stored. */
  createKey(accountId: string, agentId: string, input: CreateKeyInput): Promise<CreatedKeyView>;
  listKeys(accountId: string, agentId: string): Promise<ListOf<KeyView>>;
  /** Changes a key's name or budget (null removes it); its secret and expiry stay. */
  updateKey(accountId: string, agentId: string, keyId: string, patch: UpdateKeyInput): Promise<KeyView>;
  /** Revokes at once: the very next request with it fails, on every instance. */
  deleteKey(accountId: string, agentId: string, keyId: string): Promise<void>;
  /**
   * A new key with the same name and expiry; the old one is revoked now, or after
   * `grace_seconds` (a whole number, at most 30 days; never past its own expiry). An
   * expired key cannot be rotated (400). A refused or failed rotation changes nothing.
   */
  rotateKey(accountId: string, agentId: string, keyId: string, options?: { grace_seconds?: number }): Promise<CreatedKeyView>;

  getBilling(accountId: string): Promise<BalanceState>;
  /**
   * Adds money and writes the ledger entry. With `idempotencyKey`, repeating the call
   * (say, after a 503 or a lost reply) credits once and answers the same.
   */
  credit(accountId: string, amountMicros: number, options?: { idempotencyKey?: string }): Promise<BalanceState>;
  /** Ledger entries, oldest first; page with `after` = the last id while `has_more`. */
  listUsage(accountId: string, query?: UsageQuery): Promise<ListOf<LedgerView>>;
  /** Requests, tokens and cost of the account's charges per agent, model, key and/or day, from the ledger's rollups. */
  summarizeUsage(accountId: string, query?: UsageSummaryQuery): Promise<UsageSummary>;

  /** The agent's threads, oldest first; page with `after` = the last id while `has_more`. */
  listThreads(accountId: string, agentId: string, query?: PageQuery): Promise<ListOf<ThreadView>>;
  getThread(accountId: string, threadId: string): Promise<ThreadView>;
  /** 409 `thread_busy` while a request on the thread is running (it would write the thread back); retry when it is done. */
  deleteThread(accountId: string, threadId: string): Promise<void>;
}

export function createAdminOperations(runtime: GatewayRuntime): AdminOperations {
  const { records, atomics, ledger, retries } = runtime;

  const ownAgent = async (accountId: string, agentId: string): Promise<AgentRecord> => {
    const agent = await records.getAgent(agentId);
    if (!agent || agent.account_id !== accountId) throw notFound("agent", agentId);
    return agent;
  };
  const keyOf = async (agent: AgentRecord, keyId: string): Promise<KeyRecord> => {
    const key = (await records.listKeys(agent.id)).find((k) => k.id === keyId);
    if (!key) throw notFound("key", keyId);
    return key;
  };
  const ownKey = async (accountId: string, agentId: string, keyId: string): Promise<KeyRecord> => keyOf(await ownAgent(accountId, agentId), keyId);
  const ownThread = async (accountId: string, threadId: string): Promise<ThreadRecord> => {
    const thread = await records.getThread(threadId);
    if (!thread || thread.account_id !== accountId) throw notFound("thread", threadId);
    // A thread whose first request was still running when its agent was deleted is saved
    // after the agent's threads were: it went with the agent, and is swept when met.
    if (!(await records.getAgent(thread.agent_id))) {
      await records.deleteThread(thread).catch(() => undefined);
      throw notFound("thread", threadId);
    }
    return thread;
  };
  /**
   * Runs `task` holding the leases of `threads`, the ones a chat request takes: a thread
   * deleted under a running request would be written back whole when it settles. Any
   * thread busy: 409 `thread_busy`, nothing done. The leases are given back afterwards.
   */
  const whileLeased = async (threads: ThreadRecord[], busyMessage: (threadId: string) => string, task: () => Promise<void>): Promise<void> => {
    const token = createId("lease_", 16);
    const names = threads.map((thread) => threadLeaseName(thread.agent_id, thread.id));
    const taken = await Promise.allSettled(names.map((name) => atomics.acquireLease(name, token, runtime.holdTtlMs)));
    // A failed take may still have taken the lease (the reply was lost): every lease is given back.
    const giveBack = () => Promise.all(names.map((name) => retries.attempt("release a thread lease", () => atomics.releaseLease(name, token))));
    const failed = taken.find((result) => result.status === "rejected");
    const busy = threads.find((_, i) => taken[i].status === "fulfilled" && !(taken[i] as PromiseFulfilledResult<boolean>).value);
    if (failed || busy) {
      await giveBack();
      if (failed) throw failed.reason;
      throw createAPIError({ code: "thread_busy", message: busyMessage(busy!.id) });
    }
    try {
      await task();
    } finally {
      await giveBack();
    }
  };
  const issueKey = async (agent: AgentRecord, name: string, expiresAt: string | null, budget?: KeyRecord["budget"]): Promise<{ record: KeyRecord; view: CreatedKeyView }> => {
    const { key, digest, start } = generateKey();
    const record: KeyRecord = { id: createId("key_"), agent_id: agent.id, account_id: agent.account_id, name, start, digest, created_at: nowISO(), expires_at: expiresAt, ...(budget && { budget }) };
    await records.putKey(record);
    const [budgetView] = await budgetViews(runtime, agent.account_id, [{ owner: "key", id: record.id, budget: record.budget }]);
    return { record, view: { ...keyView(record, null), ...(budgetView && { budget: budgetView }), key } };
  };
  // Agents and keys as the API shows them: with their budget's spending when they have one, read in one call.
  const showAgents = async (accountId: string, agents: AgentRecord[]): Promise<AgentView[]> => {
    const budgets = await budgetViews(runtime, accountId, agents.map((a) => ({ owner: "agent", id: a.id, budget: a.budget })));
    return agents.map((a, i) => ({ ...agentView(a), ...(a.fallbacks && { fallbacks: a.fallbacks }), ...(budgets[i] && { budget: budgets[i] }) }));
  };
  const showKeys = async (accountId: string, keys: KeyRecord[], lastUsed: Array<string | null>): Promise<KeyView[]> => {
    const budgets = await budgetViews(runtime, accountId, keys.map((k) => ({ owner: "key", id: k.id, budget: k.budget })));
    return keys.map((k, i) => ({ ...keyView(k, lastUsed[i]), ...(budgets[i] && { budget: budgets[i] }) }));
  };

  /** An agent's aliases must route to catalog models: 400 naming the first that does not. */
  const checkedAliases = (aliases: Record<string, string> | null | undefined) => {
    const [problem] = aliasProblems(aliases, (name) => runtime.catalog.get(name) !== undefined);
    if (problem) throw createAPIError({ code: "invalid_request", param: "aliases", message: `Invalid value for 'aliases': ${problem}.` });
    return aliases;
  };

  return {
    async createAgent(accountId, input) {
      const body = parseOrThrow(createAgentSchema, input);
      const now = nowISO();
      const agent: AgentRecord = {
        id: createId("agt_"),
        account_id: accountId,
        name: body.name,
        instructions: body.instructions ?? null,
        models: body.models ?? null,
        limits: body.limits ?? null,
        aliases: checkedAliases(body.aliases) ?? null,
        ...(body.budget && { budget: body.budget }),
        ...(body.fallbacks && { fallbacks: body.fallbacks }),
        ...(body.truncation && { truncation: body.truncation }),
        ...(body.drop_unsupported_tools !== undefined && { drop_unsupported_tools: body.drop_unsupported_tools }),
        created_at: now,
        updated_at: now,
      };
      await records.putAgent(agent);
      return (await showAgents(accountId, [agent]))[0];
    },
    async listAgents(accountId) {
      return { object: "list", data: await showAgents(accountId, await records.listAgents(accountId)) };
    },
    async getAgent(accountId, agentId) {
      return (await showAgents(accountId, [await ownAgent(accountId, agentId)]))[0];
    },
    async updateAgent(accountId, agentId, patch) {
      const body = parseOrThrow(updateAgentSchema, patch);
      const agent = await ownAgent(accountId, agentId);
      const next: AgentRecord = {
        ...agent,
        ...(body.name !== undefined && { name: body.name }),
        ...(body.instructions !== undefined && { instructions: body.instructions }),
        ...(body.models !== undefined && { models: body.models }),
        ...(body.limits !== undefined && { limits: body.limits }),
        ...(body.aliases !== undefined && { aliases: checkedAliases(body.aliases) }),
        ...(body.budget !== undefined && { budget: body.budget }),
        ...(body.fallbacks !== undefined && { fallbacks: body.fallbacks }),
        ...(body.truncation !== undefined && { truncation: body.truncation }),
        ...(body.drop_unsupported_tools !== undefined && { drop_unsupported_tools: body.drop_unsupported_tools }),
        updated_at: nowISO(),
      };
      await records.putAgent(next);
      return (await showAgents(accountId, [next]))[0];
    },
    async deleteAgent(accountId, agentId) {
      const agent = await ownAgent(accountId, agentId);
      // Keys first: once the agent record is gone its keys must already be dead, and no new
      // request can start, so a refusal below (a request still running) ends soon.
      await Promise.all((await records.listKeys(agentId)).map((key) => records.deleteKey(key)));
      const threads = await records.listThreads(agentId);
      const busy = (threadId: string) => `Agent '${clip(agentId)}' has a request running on thread '${threadId}'; its keys are revoked already. Retry when the request is done.`;
      await whileLeased(threads, busy, async () => {
        await Promise.all(threads.map((thread) => records.deleteThread(thread)));
        await records.deleteAgent(agent);
      });
    },

    async createKey(accountId, agentId, input) {
      const body = parseOrThrow(createKeySchema, input);
      const agent = await ownAgent(accountId, agentId);
      const expiresAt = body.expires_at ? new Date(body.expires_at).toISOString() : null;
      if (expiresAt && Date.parse(expiresAt) <= Date.now()) {
        throw createAPIError({ code: "invalid_request", param: "expires_at", message: "`expires_at` is in the past: such a key would never work." });
      }
      return (await issueKey(agent, body.name, expiresAt, body.budget)).view;
    },
    async listKeys(accountId, agentId) {
      await ownAgent(accountId, agentId);
      const keys = await records.listKeys(agentId);
      const lastUsed = await Promise.all(keys.map((key) => records.getKeyLastUsed(key.id)));
      return { object: "list", data: await showKeys(accountId, keys, lastUsed) };
    },
    async updateKey(accountId, agentId, keyId, patch) {
      const body = parseOrThrow(updateKeySchema, patch);
      const key = await ownKey(accountId, agentId, keyId);
      const next: KeyRecord = { ...key, ...(body.name !== undefined && { name: body.name }), ...(body.budget !== undefined && { budget: body.budget }) };
      await records.putKey(next);
      return (await showKeys(accountId, [next], [await records.getKeyLastUsed(key.id)]))[0];
    },
    async deleteKey(accountId, agentId, keyId) {
      await records.deleteKey(await ownKey(accountId, agentId, keyId));
    },
    async rotateKey(accountId, agentId, keyId, options = {}) {
      // Everything that can be refused is checked before anything is written.
      const grace = graceSeconds(options.grace_seconds);
      const agent = await ownAgent(accountId, agentId);
      const old = await keyOf(agent, keyId);
      const now = Date.now();
      const oldExpiry = old.expires_at === null ? Infinity : Date.parse(old.expires_at);
      if (oldExpiry <= now) {
        throw createAPIError({
          code: "invalid_request",
          message: `Key '${clip(keyId)}' expired at ${old.expires_at}: an expired key cannot be rotated. Create a new key (POST .../keys) and delete this one.`,
        });
      }
      // The new key keeps the old one's expiry (still ahead, checked above).
      const fresh = await issueKey(agent, old.name, old.expires_at, old.budget);
      try {
        // A grace period can shorten the old key's life, never lengthen it.
        if (grace === 0) await records.deleteKey(old);
        else if (now + grace * 1000 < oldExpiry) await records.putKey({ ...old, expires_at: new Date(now + grace * 1000).toISOString() });
      } catch (error) {
        // The new key was never shown: take it back, so a failed rotation changes nothing.
        await records.deleteKey(fresh.record).catch(() => undefined);
        throw error;
      }
      return fresh.view;
    },

    getBilling: (accountId) => atomics.getBalance(accountId),
    async credit(accountId, amountMicros, options = {}) {
      if (!Number.isSafeInteger(amountMicros) || amountMicros <= 0) {
        throw createAPIError({ code: "invalid_request", param: "amount_micros", message: "`amount_micros` must be a positive whole number." });
      }
      const { idempotencyKey } = options;
      if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
        throw createAPIError({ code: "invalid_request", param: "Idempotency-Key", message: "The idempotency key must be 1 to 255 visible ASCII characters." });
      }
      let entry: LedgerEntry = { id: createSortableId("led_"), account_id: accountId, type: "credit", amount_micros: amountMicros, created_at: nowISO() };
      // The receipt kept with the idempotency key is the ledger entry, so a repeat writes the same line.
      const receipt = JSON.stringify({ id: entry.id, created_at: entry.created_at, amount_micros: amountMicros });
      const { amount_micros: _amount, ...line } = entry satisfies LedgerEntry;
      const { balance_micros, reserved_micros, receipt: applied, lines } = await atomics.credit(accountId, amountMicros, idempotencyKey ? { id: idempotencyKey, receipt } : undefined, line);
      if (applied && applied !== receipt) {
        const first = JSON.parse(applied) as Pick<LedgerEntry, "id" | "created_at" | "amount_micros">;
        if (first.amount_micros !== amountMicros) {
          throw createAPIError({ code: "invalid_request", param: "Idempotency-Key", message: `This idempotency key was already used for a credit of ${first.amount_micros} micro-USD.` });
        }
        entry = { ...entry, id: first.id, created_at: first.created_at };
      }
      // The money is in (and its line written ahead with it): a failed ledger write is
      // retried in the background rather than reported as a failed credit, which the
      // caller would then repeat.
      await retries.attempt(`ledger entry ${entry.id}`, () => writeLines(runtime, accountId, lines ?? [entry], lines !== undefined));
      return { balance_micros, reserved_micros };
    },
    async listUsage(accountId, query = {}) {
      const limit = pageLimit(query.limit);
      if (query.type !== undefined && query.type !== "charge" && query.type !== "credit") {
        throw createAPIError({ code: "invalid_request", param: "type", message: "`type` must be `charge` or `credit`." });
      }
      const page = await ledger.page(accountId, {
        agentId: query.agent_id,
        keyId: query.key_id,
        model: query.model,
        threadId: query.thread_id,
        type: query.type,
        since: parseTimeParam(query.since, "since"),
        until: parseTimeParam(query.until, "until"),
        after: query.after,
        limit,
      });
      return { object: "list", data: page.entries.map(ledgerView), has_more: page.hasMore };
    },
    summarizeUsage: (accountId, query) => summarizeUsage(ledger, accountId, query),

    async listThreads(accountId, agentId, query = {}) {
      const limit = pageLimit(query.limit);
      await ownAgent(accountId, agentId);
      const { threads, hasMore } = await records.pageThreads(agentId, { after: query.after, limit });
      return { object: "list", data: threads.map(threadView), has_more: hasMore };
    },
    async getThread(accountId, threadId) {
      return threadView(await ownThread(accountId, threadId));
    },
    async deleteThread(accountId, threadId) {
      const thread = await ownThread(accountId, threadId);
      await whileLeased([thread], (id) => `Thread '${id}' is answering a request; retry when the request is done.`, () => records.deleteThread(thread));
    },
  };
}

// --- internal ---

/** The longest grace period a rotated-out key may keep working: 30 days. */
const MAX_GRACE_SECONDS = 30 * 86_400;

/** `grace_seconds`: a whole number from 0 to 30 days, 0 when not given. */
function graceSeconds(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (!(typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= MAX_GRACE_SECONDS)) {
    throw createAPIError({ code: "invalid_request", param: "grace_seconds", message: `\`grace_seconds\` must be a whole number from 0 to ${MAX_GRACE_SECONDS} (30 days).` });
  }
  return value;
}

/** A list's page size: 1 to 1000, 100 when not given. */
function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= 1000)) {
    throw createAPIError({ code: "invalid_request", param: "limit", message: "`limit` must be a whole number from 1 to 1000." });
  }
  return limit;
}

function notFound(kind: string, id: string) {
  return createAPIError({ code: "not_found", message: `No ${kind} found with id '${clip(id)}'.` });
}
