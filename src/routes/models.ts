import type { H3 } from "h3";
import { agentAllowsModel } from "../catalog";
import { apiKeyAuth } from "../chain/auth";
import { useGatewayContext } from "../context";
import type { GatewayRuntime } from "../runtime";

/** `GET {base}/v1/models`: OpenAI's list of the models this key's agent may use. */
export function registerModels(app: H3, base: string, runtime: GatewayRuntime): void {
  // A fixed `created` keeps the list stable across instances and restarts.
  const created = 1_735_689_600;
  const available = runtime.catalog.list().filter((entry) => entry.provider);
  app.get(
    `${base}/v1/models`,
    (event) => {
      const { agent } = useGatewayContext(event).auth!;
      const data = available
        .filter((entry) => agentAllowsModel(agent.models, entry.name))
        .map((entry) => ({ id: entry.name, object: "model" as const, created, owned_by: entry.providerId }));
      return { object: "list" as const, data };
    },
    { middleware: [apiKeyAuth(runtime)] },
  );
}
