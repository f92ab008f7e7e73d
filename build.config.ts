import { defineBuildConfig } from "unbuild";

// One rollup entry per public module; shared code lands in chunks. Vendor SDKs and host
// frameworks stay external (optional peers), loaded only by the entry that needs them.
export default defineBuildConfig({
  entries: [
    { input: "src/index", name: "index" },
    { input: "src/fs", name: "fs" },
    { input: "src/providers/echo/index", name: "providers/echo" },
    { input: "src/providers/openai/index", name: "providers/openai" },
    { input: "src/providers/anthropic/index", name: "providers/anthropic" },
    { input: "src/providers/gemini/index", name: "providers/gemini" },
    { input: "adapters/node", name: "adapters/node" },
    { input: "adapters/express", name: "adapters/express" },
    { input: "adapters/nitro", name: "adapters/nitro" },
    // Nitro resolves this runtime file by path (next to dist/adapters/nitro.mjs) and bundles it into the app.
    { input: "adapters/nitro/runtime/handler", name: "adapters/nitro/runtime/handler" },
  ],
  declaration: "node16",
  clean: true,
  externals: ["openai", "@anthropic-ai/sdk", "@google/genai", "express", "nitropack", "nitro", "ioredis", "h3", "unstorage", "db0", "#agentgate/providers"],
  rollup: { emitCJS: true },
});
