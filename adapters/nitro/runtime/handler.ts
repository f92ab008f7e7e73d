import { eventHandler, getRequestURL, getRequestWebStream } from "h3";
import { useNitroApp, useRuntimeConfig, useStorage } from "nitropack/runtime";
import type { NitroApp } from "nitropack/types";
import * as builtins from "#agentgate/providers";
import type { AdminAuthOptions } from "../../../src/admin/token";
import { createAPIError, toErrorBody } from "../../../src/errors";
import { createGateway, createStorageLedger, type Gateway } from "../../../src/index";
import type { Provider } from "../../../src/providers/_define";
import type { AgentgateRuntimeConfig } from "../../nitro";

// Nitro runtime file: web APIs only. `h3` here is Nitro's own (the module sees to it);
// the helpers used exist in h3 v1 and v2 alike.

/** Created once: the gateway, or the error that kept it from being created. */
let created: { gateway: Gateway } | { error: unknown } | undefined;

/** Nitro plugin (the module registers it): creates the gateway as the server starts. */
export function startGateway(nitroApp: NitroApp): void {
  useGateway(nitroApp);
}

export default eventHandler((event) => {
  const gateway = useGateway();
  // Nitro's own error page would hide the cause behind "Server Error": answer as the API does.
  if (!gateway) return unavailable();
  // h3 v1's web bridge passes no disconnect on: on Node presets, watch the response
  // ourselves, so a client that leaves aborts the upstream call and is billed for what it got.
  const left = new AbortController();
  const res = event.node?.res;
  res?.once("close", () => {
    if (!res.writableFinished) left.abort();
  });
  const request = new Request(getRequestURL(event), {
    method: event.method,
    headers: event.headers,
    body: getRequestWebStream(event),
    signal: left.signal,
    duplex: "half",
  } as RequestInit);
  return gateway.fetch(request);
});

// --- internal ---

function useGateway(nitroApp: NitroApp = useNitroApp()): Gateway | undefined {
  if (!created) {
    try {
      const gateway = createNitroGateway();
      nitroApp.hooks.hook("close", () => gateway.close());
      created = { gateway };
    } catch (error) {
      // A config error does not heal by retrying: log it once, clearly, and refuse every request.
      console.error("[agentgate] [nitro] Could not create the gateway from the `agentgate` config; its routes answer 503 until the server restarts with a fixed config:", error);
      created = { error };
    }
  }
  return "gateway" in created ? created.gateway : undefined;
}

function createNitroGateway(): Gateway {
  const { storage, providers, admin, ...options } = useRuntimeConfig().agentgate as AgentgateRuntimeConfig;
  const factories = builtins as Record<string, (options: object) => Provider>;
  const documents = useStorage(storage);
  return createGateway({
    ...options,
    storage: documents,
    // The ledger in the same mount (0.1's layout), named here: the module has no ledger option, so no advice to pass one.
    ledger: createStorageLedger(documents),
    admin: adminOptions(admin),
    providers: Object.entries(providers)
      .filter(([id, providerOptions]) => hasKey(id, providerOptions))
      .map(([id, providerOptions]) => factories[id]({ ...providerOptions })),
  });
}

/** A provider whose `apiKey` is empty (its variable unset) is left out, not a crash: its models answer 503. */
function hasKey(id: string, options: Record<string, unknown>): boolean {
  if (!("apiKey" in options) || options.apiKey) return true;
  const variable = `NITRO_AGENTGATE_PROVIDERS_${id.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}_API_KEY`;
  console.warn(`[agentgate] [nitro] The \`${id}\` provider has no apiKey (set ${variable}), so it is not configured: its models answer 503 provider_not_configured.`);
  return false;
}

function unavailable(): Response {
  const { status, body } = toErrorBody(createAPIError({ code: "service_unavailable", message: "The gateway could not start; the server log says why." }));
  return Response.json(body, { status });
}

function adminOptions({ secret, jwks, issuer, audience }: AgentgateRuntimeConfig["admin"]): AdminAuthOptions | undefined {
  const claims = { issuer: issuer || undefined, audience: audience || undefined };
  if (secret) return { secret, ...claims };
  if (jwks) return { jwks, ...claims };
  return undefined;
}
