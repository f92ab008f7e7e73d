import { accessSync, constants, existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";

/**
 * The path of a system program the tests need, or one clear line naming the command that
 * installs it (never a silent skip, never a hang): `npm run test:all` installs them all.
 */
export function requireProgram(program: string, debianPackage = program): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const path = join(dir, program);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this folder
    }
  }
  throw new Error(`${program} is not installed: run \`apt-get install -y ${debianPackage}\` (npm run test:all installs it).`);
}

/**
 * A program `npm run test:all` keeps in its cache outside the repository
 * (`~/.cache/agentgate-node`): the path in `variable` (test:all sets it), else the cached
 * one; if neither is there, one clear line naming how it is installed.
 */
export function requireCachedProgram(variable: string, pathInCache: string, install: string): string {
  const path = process.env[variable] ?? join(homedir(), ".cache/agentgate-node", pathInCache);
  if (!existsSync(path)) throw new Error(`${install} (npm run test:all does it).`);
  return path;
}
