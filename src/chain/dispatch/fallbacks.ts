import type { HTTPError } from "h3";
import { agentAllowsModel, outputCap, worstCaseMicros } from "../../catalog";
import type { GatewayContext } from "../../context";
import type { GatewayRuntime } from "../../runtime";
import type { AgentRecord } from "../../stores/records";
import { createDeadline, type Deadline } from "./deadline";

/** A model ready to call: its catalog entry with its provider. */
export type DispatchModel = NonNullable<GatewayContext["model"]>;

/**
 * The models to try for a request, in order: the one asked for, then its fallbacks (the
 * agent's list for that model, else the gateway's), leaving out any the catalog does not
 * know, whose provider is not configured, or that the agent may not use. No fallbacks:
 * the model alone, and nothing else is done.
 */
export function fallbackCandidates(runtime: Pick<GatewayRuntime, "catalog" | "fallbacks">, agent: Pick<AgentRecord, "models" | "fallbacks">, model: DispatchModel): DispatchModel[] {
  const names = agent.fallbacks?.[model.name] ?? runtime.fallbacks?.[model.name];
  if (!names?.length) return [model];
  const out = [model];
  for (const name of names) {
    const entry = runtime.catalog.get(name);
    if (!entry?.provider || !agentAllowsModel(agent.models, name) || out.some((m) => m.name === name)) continue;
    out.push({ ...entry, provider: entry.provider });
  }
  return out;
}

/** The worst case over every candidate, each at its own price and output cap (what the hold covers). */
export function worstCaseOverCandidates(candidates: readonly DispatchModel[], requested: number | null | undefined, promptTokens: number, defaultMaxTokens: number): number {
  return Math.max(...candidates.map((m) => worstCaseMicros(m.info, promptTokens, outputCap(requested, m, defaultMaxTokens))));
}

/** What makes dispatch try the next model: a 429, a 5xx, an overload or a timeout, before the first byte. Never a 400. */
export function fallsBack(error: HTTPError): boolean {
  return error.status === 429 || error.status >= 500;
}

/**
 * Calls the candidates in order until one answers; each gets its own upstream timeout
 * (a timed-out model must leave time for the next). The last one keeps dispatch's retries;
 * the others get none (the next model is the retry). A client gone, or an error that is
 * not the model's (a 400), ends it at once.
 */
export async function firstAnswering<T>(options: {
  candidates: readonly DispatchModel[];
  timeoutMs: number;
  clientSignal: AbortSignal;
  attempt: (model: DispatchModel, deadline: Deadline, retries: number | undefined) => Promise<T>;
  toError: (error: unknown, deadline: Deadline, model: DispatchModel) => HTTPError;
}): Promise<{ value: T; model: DispatchModel; deadline: Deadline }> {
  const { candidates } = options;
  for (let i = 0; ; i++) {
    const model = candidates[i];
    const last = i === candidates.length - 1;
    const deadline = createDeadline(options.timeoutMs, options.clientSignal);
    try {
      return { value: await options.attempt(model, deadline, last ? undefined : 0), model, deadline };
    } catch (raw) {
      deadline.clear();
      const error = options.toError(raw, deadline, model);
      if (last || options.clientSignal.aborted || !fallsBack(error)) throw error;
    }
  }
}
