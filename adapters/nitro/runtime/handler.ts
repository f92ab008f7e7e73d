import { fromWebHandler } from "h3";
import { useNitroApp, useRuntimeConfig, useStorage } from "nitropack/runtime";
import * as builtins from "#agentgate/providers";
import type { AdminAuthOptions } from "../../../src/admin/token";
import { createGateway, type Gateway } from "../../../src/index";
import type { Provider } from "../../../src/providers/_define";
import type { AgentgateRuntimeConfig } from "../../nitro";

// Nitro runtime file: web APIs only. `h3` here is Nitro's own (the module sees to it),
// so the same web bridge works on h3 v1 and v2.
let gateway: Gateway | undefined;

export default fromWebHandler((request: Request) => (gateway ??= createNitroGateway()).fetch(request));

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
