import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { consumerApp, ensureBuilt } from "./_consumer";

const TSC = fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url));

// A TypeScript app with skipLibCheck off and none of the optional peers (openai,
// @anthropic-ai/sdk, @google/genai, db0, express, nitropack) installed.
const APP = `import { createServer } from "node:http";
import { anthropic, createGateway, createSqlLedger, echo, gemini, openai, type GatewayOptions } from "agentgate";
import { createFsStorage } from "agentgate/fs";
import { toNodeListener } from "agentgate/node";
import { toOpenAIParams } from "agentgate/providers/openai";
import { fromAnthropicMessage } from "agentgate/providers/anthropic";
import { fromGeminiResponse } from "agentgate/providers/gemini";

const options: GatewayOptions = {
  storage: createFsStorage({ dir: "./data" }),
  providers: [echo(), openai({ apiKey: "k" }), anthropic({ apiKey: "k" }), gemini({ apiKey: "k" })],
};
const gateway = createGateway(options);
createServer(toNodeListener(gateway)).listen(0);
export const mapped = [toOpenAIParams, fromAnthropicMessage, fromGeminiResponse, createSqlLedger];
`;

/** tsc's diagnostics, one per line (continuation lines dropped). */
async function compile(dir: string): Promise<string[]> {
  const out = await promisify(execFile)(process.execPath, [TSC, "-p", dir], { cwd: dir }).then(
    ({ stdout }) => stdout,
    (error: { stdout: string }) => error.stdout,
  );
  return out.split("\n").filter((line) => /error TS\d+/.test(line));
}

describe("a strict TypeScript app (skipLibCheck: false) that installed none of the optional peers", () => {
  beforeAll(() => ensureBuilt(), 120_000);

  for (const [kind, module] of [
    ["ESM", "NodeNext"],
    ["CommonJS", "NodeNext"],
  ] as const) {
    it(`compiles against agentgate's own types (${kind}), which name no optional peer`, async () => {
      const dir = consumerApp({
        "package.json": JSON.stringify({ name: "strict-app", private: true, ...(kind === "ESM" && { type: "module" }) }),
        "tsconfig.json": JSON.stringify({ compilerOptions: { strict: true, skipLibCheck: false, module, moduleResolution: "NodeNext", target: "ES2022", noEmit: true, types: ["node"] }, include: ["app.ts"] }),
        "app.ts": APP,
      });
      const errors = await compile(dir);
      // Errors inside other packages' own declarations (unstorage's optional drivers, h3) are
      // theirs, and an app without skipLibCheck meets them with any use of those packages.
      const ours = errors.filter((line) => line.startsWith("app.ts") || line.includes("node_modules/agentgate/"));
      expect(ours).toEqual([]);
      expect(errors.filter((line) => /openai|@anthropic-ai|@google\/genai|'db0'|nitropack|express/.test(line))).toEqual([]);
    }, 120_000);
  }
});
