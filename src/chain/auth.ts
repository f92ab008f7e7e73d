import type { H3Event, Middleware } from "h3";
import { agentAllowsModel } from "../catalog";
import { useGatewayContext, type GatewayContext } from "../context";
import { clip, createAPIError } from "../errors";
import { nowISO } from "../ids";
import { digestKey, isWellFormedKey, KEY_PREFIX } from "../keys";
import type { GatewayRuntime } from "../runtime";
import { resolveModel } from "./parse";

const AGENT_MAX_AGE_MS = 1000;

/** One message for every failure, so a caller learns nothing about which keys exist. */
const INVALID_KEY_MESSAGE = "Incorrect API key provided. Pass a valid a2a_ key as `Authorization: Bearer <key>` or `X-API-Key`.";

/**
 * Authenticates the `a2a_` key (`Authorization: Bearer` or `X-API-Key`): a malformed or
 * mistyped key is refused before any storage lookup; otherwise one lookup by digest.
 * Missing, unknown, expired and deleted keys all get the same 401 `invalid_api_key`.
 * The request's model is routed again through the agent's aliases (see `resolveModel`),
 * and the agent must be allowed to use the routed model (else 404, as for an unknown one).
 */
export function apiKeyAuth(runtime: GatewayRuntime): Middleware {
  return async function apiKeyAuth(event) {
    await requireApiKey(event, runtime);
  };
}

/** The guard behind `apiKeyAuth`, for handlers that authenticate on their own. */
export async function requireApiKey(event: H3Event, runtime: GatewayRuntime): Promise<NonNullable<GatewayContext["auth"]>> {
  const ctx = useGatewayContext(event);
  if (ctx.auth) return ctx.auth;
  const presented = readPresentedKey(event.req.headers);
  if (!presented || !isWellFormedKey(presented)) throw invalidKey();

  const key = await runtime.records.getKeyByDigest(digestKey(presented));
  if (!key || (key.expires_at && Date.parse(key.expires_at) <= Date.now())) throw invalidKey();
  // An agent read by this instance within the last second is reused: one storage round trip per
  // request for auth. Changes made through this instance apply at once, through others within a second.
  const agent = await runtime.records.getAgent(key.agent_id, { maxAgeMs: AGENT_MAX_AGE_MS });
  if (!agent) throw invalidKey();

  // The agent's aliases come before the gateway's: route the client's name again with them
  // (a name only they know reaches here without a model). The allow-list is of routed models.
  const requested = ctx.modelName ?? (ctx.model ? ctx.request?.model : undefined);
  if (requested !== undefined && (agent.aliases || !ctx.model)) ctx.model = resolveModel(runtime, requested, agent.aliases);
  if (ctx.model && !agentAllowsModel(agent.models, ctx.model.name)) {
    throw createAPIError({ code: "model_not_found", param: "model", message: `The model \`${clip(requested ?? ctx.model.name)}\` does not exist or you do not have access to it.` });
  }
  ctx.auth = { key, agent, accountId: key.account_id };
  recordLastUsed(runtime, key.id);
  return ctx.auth;
}

// --- internal ---

/**
 * The key from `Authorization: Bearer` or `X-API-Key`. When both are sent, the one that
 * looks like an `a2a_` key wins: a proxy in front may own `Authorization`, and the openai
 * SDKs always send it (with a placeholder when the key goes in `X-API-Key`).
 */
function readPresentedKey(headers: Headers): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "")?.[1];
  const apiKey = headers.get("x-api-key")?.trim() || undefined;
  if (bearer && apiKey) return bearer.startsWith(KEY_PREFIX) || !apiKey.startsWith(KEY_PREFIX) ? bearer : apiKey;
  return bearer ?? apiKey;
}

function invalidKey() {
  return createAPIError({ code: "invalid_api_key", message: INVALID_KEY_MESSAGE });
}

/** Last-used is written at most once per interval per key, across instances, off the request's path. */
function recordLastUsed(runtime: GatewayRuntime, keyId: string): void {
  runtime.atomics
    .claimInterval(`last-used:${keyId}`, runtime.lastUsedIntervalMs)
    .then((claimed) => (claimed ? runtime.records.setKeyLastUsed(keyId, nowISO()) : undefined))
    .catch((error) => runtime.logger.warn("agentgate: could not record a key's last use", { keyId, error: String(error) }));
}
