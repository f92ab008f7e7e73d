// A Nitro app (nitropack 2) serving agentgate at /api/v1/** and /api/admin/**.
// Build with `npx nitropack build`, then run `NITRO_AGENTGATE_ADMIN_SECRET=... node .output/server/index.mjs`.
import agentgate from "agentgate/nitro";
import { defineNitroConfig } from "nitropack/config";

export default defineNitroConfig({
  compatibilityDate: "2025-07-01",
  modules: [agentgate], // imported rather than named, so the `agentgate` key below is typed
  agentgate: {
    storage: "agentgate", // useStorage("agentgate"): the fs mount below
    providers: { echo: { delayMs: 20 } }, // 20 ms between words, to watch it stream
    admin: { secret: "" }, // set at run time: NITRO_AGENTGATE_ADMIN_SECRET
    limits: { requestsPerMinute: 60, tokensPerMinute: 200_000 },
  },
  storage: {
    agentgate: { driver: "fs", base: "./.data/agentgate" },
  },
});
