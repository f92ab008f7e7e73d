import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Packages an app has only when it chose them: the optional peers and the vendor SDKs. */
const OPTIONAL = ["openai", "@anthropic-ai", "@google", "@ai-sdk", "ai", "@langchain", "express", "express4", "@types/express", "nitropack", "nitro", "db0"];

/** Builds `dist/` once when a bare `vitest run` finds none (`npm run test:all` builds first). */
export function ensureBuilt(): void {
  if (!existsSync(join(root, "dist/index.cjs"))) execFileSync("npx", ["unbuild"], { cwd: root, stdio: "ignore" });
}

/**
 * A folder holding an app (`files`) with agentgate installed as a user installs it: the
 * built `dist/` and `package.json` in `node_modules/agentgate`, beside agentgate's own
 * dependencies but none of the optional peers or SDKs, except those in `extra` (a name
 * in the app → a folder in this repository's node_modules).
 */
export function consumerApp(files: Record<string, string>, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "agentgate-consumer-"));
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  const modules = join(dir, "node_modules");
  mkdirSync(join(modules, "@types"), { recursive: true });
  for (const name of readdirSync(join(root, "node_modules"))) {
    if (OPTIONAL.includes(name) || name === "@types" || name.startsWith(".")) continue;
    symlinkSync(join(root, "node_modules", name), join(modules, name));
  }
  symlinkSync(join(root, "node_modules/@types/node"), join(modules, "@types/node"));
  for (const [name, from] of Object.entries(extra)) {
    mkdirSync(join(modules, name, ".."), { recursive: true });
    symlinkSync(join(root, "node_modules", from), join(modules, name));
  }
  const pkg = join(modules, "agentgate");
  mkdirSync(pkg);
  cpSync(join(root, "package.json"), join(pkg, "package.json"));
  // A copy, not a link: TypeScript resolves a linked file from its real place, where every dev dependency is.
  cpSync(join(root, "dist"), join(pkg, "dist"), { recursive: true });
  return dir;
}
