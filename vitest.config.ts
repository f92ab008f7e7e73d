import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Examples import the package by name, as a user would; tests run them against the sources.
    alias: [
      { find: /^agentgate\/providers\/(.*)$/, replacement: here("./src/providers/$1") },
      { find: /^agentgate\/(node|express|nitro)$/, replacement: here("./adapters/$1.ts") },
      { find: /^agentgate\/fs$/, replacement: here("./src/fs.ts") },
      { find: /^agentgate$/, replacement: here("./src/index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/_global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for something that will happen; a busy CI machine may take longer than 1 s.
    expect: { poll: { timeout: 10_000 } },
    // Two cores: files run in parallel in two forks; heavier suites start their own servers.
    pool: "forks",
    maxWorkers: 2,
  },
});
