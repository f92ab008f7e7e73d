import { eventHandler, getRequestURL, getRequestWebStream } from "h3";
import { useNitroApp, useRuntimeConfig, useStorage } from "nitropack/runtime";
import * as builtins from "#agentgate/providers";
import type { AdminAuthOptions } from "../../../src/admin/token";
import { createGateway, type Gateway } from "../../../src/index";
import type { Provider } from "../../../src/providers/_define";
import type { AgentgateRuntimeConfig } from "../../nitro";

// Nitro runtime file: web APIs only. `h3` here is Nitro's own (the module sees to it);
// the helpers used exist in h3 v1 and v2 alike.
let gateway: Gateway | undefined;

export default eventHandler((event) => {
  gateway ??= createNitroGateway();
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

function createNitroGateway(): Gateway {
  const { storage, providers, admin, ...options } = useRuntimeConfig().agentgate as AgentgateRuntimeConfig;
  const factories = builtins as Record<string, (options: object) => Provider>;
  const created = createGateway({
    ...options,
    storage: useStorage(storage),
    admin: adminOptions(admin),
    providers: Object.entries(providers).map(([id, providerOptions]) => factories[id]({ ...providerOptions })),
  });
  useNitroApp().hooks.hook("close", () => created.close());
  return created;
}

function adminOptions({ secret, jwks, issuer, audience }: AgentgateRuntimeConfig["admin"]): AdminAuthOptions | undefined {
  const claims = { issuer: issuer || undefined, audience: audience || undefined };
  if (secret) return { secret, ...claims };
  if (jwks) return { jwks, ...claims };
  return undefined;
}
