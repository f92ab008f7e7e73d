import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, copyPublicAssets, createNitro, prepare } from "nitropack";
import { freePort } from "../_net";

const root = fileURLToPath(new URL("../../", import.meta.url));

/**
 * A folder holding `nitro.config.ts` (and whatever else `files` names), where `agentgate`
 * resolves as an installed package would: `node_modules/agentgate` with the package's
 * subpaths, pointing at the sources (nothing is published here).
 */
export function nitroProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "agentgate-nitro-"));
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  const modules = join(dir, "node_modules");
  mkdirSync(modules);
  for (const name of readdirSync(join(root, "node_modules"))) symlinkSync(join(root, "node_modules", name), join(modules, name));
  const pkg = join(modules, "agentgate");
  mkdirSync(pkg);
  symlinkSync(join(root, "src"), join(pkg, "src"), "dir");
  symlinkSync(join(root, "adapters"), join(pkg, "adapters"), "dir");
  const exports = { ".": "./src/index.ts", "./nitro": "./adapters/nitro.ts", "./providers/*": "./src/providers/*/index.ts" };
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "agentgate", type: "module", exports }));
  return dir;
}

/** `nitropack build` with the node-server preset, into `dir/.output`. */
export async function buildNitro(dir: string): Promise<void> {
  const nitro = await createNitro({
    rootDir: dir,
    dev: false,
    preset: "node-server",
    logLevel: 1,
    // Bundle the sources into the app, as Nitro bundles an installed agentgate's dist files.
    alias: {
      "agentgate/nitro": join(root, "adapters/nitro.ts"),
      "agentgate/providers": join(root, "src/providers"),
      agentgate: join(root, "src/index.ts"),
    },
  });
  await prepare(nitro);
  await copyPublicAssets(nitro);
  await build(nitro);
  await nitro.close();
}

/** A built app's `.output/server/index.mjs` in its own process. */
export interface NitroServer {
  origin: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

export async function startNitro(dir: string, env: Record<string, string> = {}): Promise<NitroServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(dir, ".output/server/index.mjs")], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), NITRO_PORT: String(port), NITRO_HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data;
      if (output.includes("Listening on")) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the Nitro server exited with ${code}:\n${output}`)));
  });
  return { origin: `http://127.0.0.1:${port}`, output: () => output, stop: () => stop(child) };
}

export function removeProject(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

// --- internal ---

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}
