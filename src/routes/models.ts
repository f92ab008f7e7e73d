import type { H3, H3Event } from "h3";
import { agentAliasTable } from "../aliases";
import { agentAllowsModel } from "../catalog";
import { apiKeyAuth } from "../chain/auth";
import { routeModel } from "../chain/parse";
import { useGatewayContext } from "../context";
import { createAPIError } from "../errors";
import type { GatewayRuntime } from "../runtime";
import type { AgentRecord } from "../stores/records";

// A fixed `created` keeps the list stable across instances and restarts.
const CREATED = 1_735_689_600;
const CREATED_AT = new Date(CREATED * 1000).toISOString();

/**
 * `GET {base}/v1/models`: the models this key's agent may use: its aliases and the
 * gateway's (exact names; patterns cannot be sent verbatim), then the catalog's models,
 * each id usable as `model` as it is. OpenAI's list, or Anthropic's when the request
 * carries `anthropic-version` (`?beta=true`, as Anthropic's SDKs send, changes nothing).
 * `GET {base}/v1/models/{id}` answers for one of them (the SDKs' `models.retrieve`).
 */
export function registerModels(app: H3, base: string, runtime: GatewayRuntime): void {
  const middleware = [apiKeyAuth(runtime)];
  app.get(
    `${base}/v1/models`,
    (event) => {
      const ids = modelIds(runtime, useGatewayContext(event).auth!.agent);
      if (!isAnthropic(event)) return { object: "list" as const, data: ids.map(([id, model]) => openAIModel(id, model)) };
      const data = ids.map(([id]) => anthropicModel(id));
      return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
    },
    { middleware },
  );
  app.get(
    `${base}/v1/models/**`,
    (event) => {
      const name = decodeURIComponent(event.url.pathname.slice(`${base}/v1/models/`.length));
      const found = modelIds(runtime, useGatewayContext(event).auth!.agent).find(([id]) => id === name);
      if (!found) throw createAPIError({ code: "model_not_found", param: "model", message: `The model \`${name}\` does not exist or you do not have access to it.` });
      return isAnthropic(event) ? anthropicModel(found[0]) : openAIModel(...found);
    },
    { middleware },
  );
}

// --- internal ---

/** [id, routed catalog model] of every name the agent may send: aliases first, each id once. */
function modelIds(runtime: GatewayRuntime, agent: AgentRecord): Array<[id: string, model: string]> {
  const isModel = (name: string) => runtime.catalog.get(name) !== undefined;
  const aliases = [...(agent.aliases ? agentAliasTable(agent.aliases, isModel).names() : []), ...runtime.aliases.names()];
  const ids = new Map<string, string>();
  for (const id of [...aliases.map(([alias]) => alias), ...runtime.catalog.list().map((entry) => entry.name)]) {
    // Routed as a request would be: the agent's aliases may shadow the gateway's, or a catalog name.
    const model = ids.has(id) ? undefined : routeModel(runtime, id, agent.aliases);
    if (model !== undefined) ids.set(id, model);
  }
  return [...ids].filter(([, model]) => runtime.catalog.get(model)?.provider && agentAllowsModel(agent.models, model));
}

function isAnthropic(event: H3Event): boolean {
  return event.req.headers.has("anthropic-version");
}

function openAIModel(id: string, model: string) {
  return { id, object: "model" as const, created: CREATED, owned_by: model.slice(0, model.indexOf("/")) };
}

function anthropicModel(id: string) {
  return { type: "model" as const, id, display_name: id, created_at: CREATED_AT };
}
