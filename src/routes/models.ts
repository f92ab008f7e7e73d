import type { H3 } from "h3";
import { agentAllowsModel, type CatalogEntry } from "../catalog";
import { apiKeyAuth } from "../chain/auth";
import { useGatewayContext } from "../context";
import { createAPIError } from "../errors";
import type { GatewayRuntime } from "../runtime";

// A fixed `created` keeps the list stable across instances and restarts.
const CREATED = 1_735_689_600;

/**
 * `GET {base}/v1/models`: OpenAI's list of the models this key's agent may use, and
 * `GET {base}/v1/models/{provider}/{model}` for one of them (the SDKs' `models.retrieve`).
 */
export function registerModels(app: H3, base: string, runtime: GatewayRuntime): void {
  const available = runtime.catalog.list().filter((entry) => entry.provider);
  const middleware = [apiKeyAuth(runtime)];
  app.get(
    `${base}/v1/models`,
    (event) => {
      const { agent } = useGatewayContext(event).auth!;
      return { object: "list" as const, data: available.filter((entry) => agentAllowsModel(agent.models, entry.name)).map(modelObject) };
    },
    { middleware },
  );
  app.get(
    `${base}/v1/models/**`,
    (event) => {
      const { agent } = useGatewayContext(event).auth!;
      const name = decodeURIComponent(event.url.pathname.slice(`${base}/v1/models/`.length));
      const entry = available.find((candidate) => candidate.name === name);
      if (!entry || !agentAllowsModel(agent.models, name)) {
        throw createAPIError({ code: "model_not_found", param: "model", message: `The model \`${name}\` does not exist or you do not have access to it.` });
      }
      return modelObject(entry);
    },
    { middleware },
  );
}

// --- internal ---

function modelObject(entry: CatalogEntry) {
  return { id: entry.name, object: "model" as const, created: CREATED, owned_by: entry.providerId };
}
