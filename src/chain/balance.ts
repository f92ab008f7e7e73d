import type { H3Event, Middleware } from "h3";
import { costMicros, outputCap, worstCaseMicros } from "../catalog";
import { requireContext, useGatewayContext } from "../context";
import { createAPIError } from "../errors";
import { createId, createSortableId, nowISO } from "../ids";
import type { GatewayRuntime } from "../runtime";
import type { LineDraft, ReserveResult, SettleResult } from "../stores/atomics";
import type { LedgerEntry } from "../stores/ledger/types";
import { budgetExceeded, budgetsOf, budgetsUnsupported, reportThresholds } from "./budgets";
import { fallbackCandidates, worstCaseOverCandidates } from "./dispatch/fallbacks";
import { keepWhileRetried, useHeartbeat, type Heartbeat } from "./heartbeat";

/**
 * Reserves the worst case before dispatch: the whole prompt (history included) plus the
 * largest answer allowed, at the model's price (the cache-write price when dearer).
 * Concurrent requests therefore never spend more than the balance. At settle time the real
 * usage is charged (cache reads and writes at their own prices), the rest is released, and
 * the charge is written to the ledger with the client's session. A failure charges nothing.
 */
export function balanceGuard(runtime: GatewayRuntime): Middleware {
  return async function balanceGuard(event) {
    await requireReservation(event, runtime);
  };
}

/** The guard behind `balanceGuard`. */
export async function requireReservation(event: H3Event, runtime: GatewayRuntime): Promise<void> {
  const ctx = useGatewayContext(event);
  const { accountId, agent, key } = requireContext(event, "auth", "apiKeyAuth");
  const model = requireContext(event, "model", "requestParser");
  const request = requireContext(event, "request", "requestParser");
  const thread = requireContext(event, "thread", "threadResolver");

  // The hold covers exactly the cap dispatch sends (the same function, the same inputs).
  let cap = outputCap(request.max_completion_tokens ?? request.max_tokens, model, runtime.defaultMaxTokens);
  // Worst case: the whole prompt may be written to the vendor's cache, which costs more than
  // input; with fallbacks, at the most expensive model that may answer.
  const candidates = fallbackCandidates(runtime, agent, model);
  let amountMicros =
    candidates.length > 1 ? worstCaseOverCandidates(candidates, request.max_completion_tokens ?? request.max_tokens, thread.promptTokens, runtime.defaultMaxTokens) : worstCaseMicros(model.info, thread.promptTokens, cap);
  if (amountMicros === 0) return; // a free model: nothing to hold, nothing to charge

  const budgets = budgetsOf(agent, key, runtime.now?.() ?? Date.now());
  if (budgets.length && !runtime.atomics.getBudgets) throw budgetsUnsupported();
  const reservationId = createId("res_", 16);
  const reserve = async (micros: number): Promise<ReserveResult> => {
    try {
      // The budgets are held in the same atomic step as the balance (none: the call of old).
      return budgets.length
        ? await runtime.atomics.reserve(accountId, reservationId, micros, runtime.holdTtlMs, budgets.map((b) => b.hold))
        : await runtime.atomics.reserve(accountId, reservationId, micros, runtime.holdTtlMs);
    } catch (error) {
      // The hold may exist even though its reply was lost: release it (settling is idempotent).
      void runtime.retries.attempt("release a reservation", () => runtime.atomics.settle(accountId, reservationId, 0));
      throw error;
    }
  };
  let result = await reserve(amountMicros);
  // A route that fits the answer to the balance (Messages: Claude Code asks for 64,000 tokens
  // every time) holds, and sends, the largest cap the balance covers instead of refusing;
  // never past a budget, and not over fallbacks (each candidate has its own price).
  const fitted =
    !result.ok && !result.budget && ctx.fitOutputToBalance && candidates.length === 1 ? fittedCap(model.info, thread.promptTokens, cap, result.balance_micros - result.reserved_micros) : undefined;
  if (fitted !== undefined) {
    cap = fitted;
    amountMicros = worstCaseMicros(model.info, thread.promptTokens, cap);
    result = await reserve(amountMicros);
  }
  if (!result.ok) {
    if (result.budget) throw budgetExceeded(budgets, result.budget, amountMicros);
    throw createAPIError({
      code: "insufficient_balance",
      message: `Insufficient balance: this request may cost up to ${amountMicros} micro-USD and ${Math.max(0, result.balance_micros - result.reserved_micros)} are available. Top up the account and retry.`,
    });
  }
  ctx.reservation = { id: reservationId, amountMicros, outputCap: cap };
  useHeartbeat(event, runtime).keep(`hold ${reservationId} of account ${accountId}`, (ttlMs) => runtime.atomics.renewHold(accountId, reservationId, ttlMs));

  ctx.settlers.push(({ usage }) => {
    const cacheRead = usage?.prompt_tokens_details?.cached_tokens ?? 0;
    const cacheWrite = usage?.prompt_tokens_details?.cache_write_tokens ?? 0;
    // Charged at the model that answered (a fallback, maybe), never the one that failed.
    const answered = ctx.answeredBy ?? model;
    const charge = usage ? costMicros(answered.info, usage.prompt_tokens, usage.completion_tokens, { read: cacheRead, write: cacheWrite }) : 0;
    const entryId = createSortableId("led_");
    const createdAt = nowISO();
    let settled: SettleResult | undefined;
    // If storage or Redis fails now, this finishes in the background: the settle is
    // idempotent per reservation and the entry id is fixed, so the charge and its ledger
    // line land exactly once. The driver writes the line ahead with the charge, so a
    // process that dies before the ledger has it leaves it to be written by the next.
    const line: LineDraft = {
      id: entryId,
      account_id: accountId,
      type: "charge",
      created_at: createdAt,
      agent_id: agent.id,
      key_id: key.id,
      model: answered.name,
      thread_id: thread.id,
      prompt_tokens: usage?.prompt_tokens ?? 0,
      completion_tokens: usage?.completion_tokens ?? 0,
      ...(cacheRead > 0 && { cache_read_tokens: cacheRead }),
      ...(cacheWrite > 0 && { cache_write_tokens: cacheWrite }),
      ...(ctx.sessionId && { session_id: ctx.sessionId }),
    };
    let kept: Heartbeat | undefined;
    return runtime.retries.attempt(`settle ${reservationId}`, async () => {
      if (!settled) {
        try {
          settled = await runtime.atomics.settle(accountId, reservationId, charge, line);
        } catch (error) {
          // The hold is kept until the charge lands: a settle that finds it expired charges nothing.
          kept ??= keepWhileRetried(runtime.heartbeats, `hold ${reservationId} of account ${accountId} (not settled yet)`, (ttlMs) => runtime.atomics.renewHold(accountId, reservationId, ttlMs), () => settled !== undefined, Date.now() + runtime.retries.maxAgeMs);
          throw error;
        }
        kept?.stop();
        reportThresholds(runtime, { accountId, agentId: agent.id, keyId: key.id }, budgets, settled.budgets);
      }
      await writeLines(runtime, accountId, settled.lines ?? (settled.charged_micros > 0 ? [{ ...line, amount_micros: -settled.charged_micros }] : []), settled.lines !== undefined);
    });
  });
}

/** The smallest output cap a hold is fitted down to: below it, an answer is hardly one (402 instead). */
export const MIN_FITTED_OUTPUT_TOKENS = 1_024;

/** The largest output cap below `cap` that `availableMicros` covers with the prompt, if at least MIN_FITTED_OUTPUT_TOKENS. */
function fittedCap(info: Parameters<typeof worstCaseMicros>[0], promptTokens: number, cap: number, availableMicros: number): number | undefined {
  const perToken = info.outputPerMTok ?? 0;
  if (perToken <= 0) return undefined; // output is free: the prompt alone is what cannot be paid
  let fitted = Math.min(cap - 1, Math.floor((availableMicros - worstCaseMicros(info, promptTokens, 0)) / perToken));
  while (fitted >= MIN_FITTED_OUTPUT_TOKENS && worstCaseMicros(info, promptTokens, fitted) > availableMicros) fitted--;
  return fitted >= MIN_FITTED_OUTPUT_TOKENS ? fitted : undefined;
}

/**
 * Writes lines of charges or credits to the ledger (it takes each id once), then tells the
 * atomics driver that wrote them ahead to forget them, off the request's path.
 */
export async function writeLines(runtime: Pick<GatewayRuntime, "ledger" | "atomics" | "retries">, accountId: string, lines: readonly LedgerEntry[], writtenAhead: boolean): Promise<void> {
  for (const line of lines) await runtime.ledger.append(line);
  if (writtenAhead && lines.length) void runtime.retries.attempt("forget ledger lines written ahead", () => runtime.atomics.landedLines(accountId, lines.map((line) => line.id)));
}
