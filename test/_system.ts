import { accessSync, constants } from "node:fs";
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
