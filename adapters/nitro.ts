import { fileURLToPath } from "node:url";
import type { Nitro, NitroModule } from "nitropack/types";
import type { Plugin } from "rollup";
import type { GatewayOptions } from "../src/gateway";
import type { AnthropicProviderOptions } from "../src/providers/anthropic/index";
import type { EchoProviderOptions } from "../src/providers/echo/index";
import type { GeminiProviderOptions } from "../src/providers/gemini/index";
import type { OpenAIProviderOptions } from "../src/providers/openai/index";

/**
 * Options under the `agentgate` key of the Nitro config. They are copied into
 * `runtimeConfig.agentgate`, so `NITRO_AGENTGATE_*` variables override them at run time
 * (e.g. `NITRO_AGENTGATE_ADMIN_SECRET`, `NITRO_AGENTGATE_PROVIDERS_OPENAI_API_KEY`).
 */
export interface AgentgateNitroOptions extends Pick<GatewayOptions, "basePath" | "limits" | "keyLimits" | "threads" | "maxBodyBytes" | "upstream" | "models" | "defaultModels"> {
  /**
   * The Nitro storage mount that keeps agents, key digests, threads and the ledger:
   * `useStorage(storage)`. Mount a driver under this name in `storage` to persist.
   * @default "agentgate"
   */
  storage?: string;
  /**
   * Built-in providers to enable, by id, with their options (`agentgate/providers/<id>`).
   * `openai`, `anthropic` and `gemini` get an empty `apiKey` unless given, so
   * `NITRO_AGENTGATE_PROVIDERS_<ID>_API_KEY` can set it at run time; a provider whose
   * `apiKey` is still empty then is left out (its models answer 503 `provider_not_configured`).
   * @default {}
   * @example { echo: {}, openai: {} }
   */
  providers?: AgentgateNitroProviders;
  /** How admin tokens are checked: an HS256 `secret` or a `jwks` URL. Without either, the admin API answers 401. */
  admin?: { secret?: string; jwks?: string; issuer?: string; audience?: string };
}

/**
 * The built-in providers by id, each with its own options as they can live in Nitro's
 * runtime config (plain data: no functions, so `headers` is an object and `fetch` is left out).
 */
export interface AgentgateNitroProviders {
  echo?: EchoProviderOptions;
  openai?: PlainOptions<OpenAIProviderOptions>;
  anthropic?: PlainOptions<AnthropicProviderOptions>;
  gemini?: PlainOptions<GeminiProviderOptions>;
}

/** A provider's options that survive serialization into runtime config. */
type PlainOptions<Options> = { [Field in keyof Options as Field extends "fetch" ? never : Field]?: Field extends "headers" ? Record<string, string> : Options[Field] };

/** What the runtime handler reads from `useRuntimeConfig().agentgate`. */
export type AgentgateRuntimeConfig = Omit<AgentgateNitroOptions, "storage" | "providers" | "admin"> &
  Required<Pick<AgentgateNitroOptions, "basePath" | "storage" | "providers" | "admin">>;

// `defineNitroConfig` takes NitroConfig, Nitro's modules read NitroOptions: both know the key.
// Importing this module in nitro.config.ts (to list it in `modules`) brings these types in.
declare module "nitropack/types" {
  interface NitroConfig {
    agentgate?: AgentgateNitroOptions;
  }
  interface NitroOptions {
    agentgate?: AgentgateNitroOptions;
  }
}

/**
 * The Nitro module (nitropack 2): mounts the gateway at `${basePath}/v1/**` and
 * `${basePath}/admin/**` with options from the `agentgate` key of the Nitro config and
 * storage from Nitro's own `useStorage` mount.
 *
 * @example
 * // nitro.config.ts
 * import agentgate from "agentgate/nitro";
 * export default defineNitroConfig({
 *   modules: [agentgate],
 *   agentgate: { storage: "data", providers: { echo: {} } },
 *   storage: { data: { driver: "fs", base: ".data" } },
 * });
 */
const agentgateNitro: NitroModule = {
  name: "agentgate",
  setup(nitro: Nitro) {
    const options = nitro.options.agentgate ?? {};
    const basePath = `/${(options.basePath ?? "/api").replace(/^\/+|\/+$/g, "")}`.replace(/^\/$/, "");
    const config: AgentgateRuntimeConfig = {
      ...options,
      basePath,
      storage: options.storage ?? "agentgate",
      providers: withKeyPlaceholders(options.providers ?? {}),
      // Empty strings make the keys exist, so NITRO_AGENTGATE_ADMIN_* can fill them at run time.
      admin: { secret: "", jwks: "", issuer: "", audience: "", ...options.admin },
    };
    nitro.options.runtimeConfig.agentgate = { ...config, ...(nitro.options.runtimeConfig.agentgate as object) };

    const runtimeDir = fileURLToPath(new URL("./nitro/runtime/", import.meta.url));
    const handler = `${runtimeDir}handler`;
    nitro.options.handlers.push({ route: `${basePath}/v1/**`, handler }, { route: `${basePath}/admin/**`, handler });
    // Creates the gateway when the server starts, so a config problem is logged before any request.
    nitro.options.virtual["#agentgate/plugin"] = `export { startGateway as default } from ${JSON.stringify(handler)};`;
    nitro.options.plugins.push("#agentgate/plugin");

    // The providers named in the config, imported by package subpath, nothing else.
    nitro.options.virtual["#agentgate/providers"] = Object.keys(config.providers)
      .map((id, i) => `import * as p${i} from ${JSON.stringify(`agentgate/providers/${id}`)};\nexport const ${safeName(id)} = p${i}[${JSON.stringify(id)}] ?? p${i}.default;`)
      .join("\n");

    // Our runtime file imports `h3` for its event helpers: it must be Nitro's own h3 (v1),
    // resolved from Nitro's runtime folder, not the h3 v2 the gateway itself runs on. Rollup
    // finds that folder: a `nitropack/...` import here would break when nitro.config.ts imports
    // this module (c12 loads the config with `nitropack` aliased to `nitropack/config`).
    nitro.hooks.hook("rollup:before", (_nitro, rollupConfig) => {
      const nitroH3: Plugin = {
        name: "agentgate:nitro-h3",
        async resolveId(id, importer) {
          if (id !== "h3" || !importer?.startsWith(runtimeDir)) return null;
          const nitroRuntime = await this.resolve("nitropack/runtime", importer, { skipSelf: true });
          if (!nitroRuntime) throw new Error("[agentgate] [nitro] Cannot find Nitro's runtime, whose h3 the handler needs");
          return this.resolve("h3", nitroRuntime.id, { skipSelf: true });
        },
      };
      rollupConfig.plugins = [nitroH3, rollupConfig.plugins]; // first, so it sees `h3` before Nitro's resolvers
    });
  },
};

export default agentgateNitro;

// --- internal ---

/** The built-in providers that need a vendor key. */
const KEYED_PROVIDERS = ["openai", "anthropic", "gemini"];

/** An empty `apiKey` makes the key exist in the runtime config, so its NITRO_ variable applies. */
function withKeyPlaceholders(providers: AgentgateNitroProviders): AgentgateNitroProviders {
  return Object.fromEntries(Object.entries(providers).map(([id, options]) => [id, KEYED_PROVIDERS.includes(id) ? { apiKey: "", ...options } : options]));
}

function safeName(id: string): string {
  if (!/^[A-Za-z_$][\w$]*$/.test(id)) throw new Error(`[agentgate] [nitro] \`${id}\` is not a provider id`);
  return id;
}
