import { mkdir, readdir, readFile, rm, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { createStorage, defineDriver, type Storage } from "unstorage";
import { createLimit, type Limit } from "./limit";
import { writeWhole } from "./write-whole";

export interface FsStorageOptions {
  /** The folder that holds the documents; created when missing. */
  dir: string;
  /** File operations under way at once, at most; past it they wait (no EMFILE under load). @default 64 */
  maxOpenFiles?: number;
}

/**
 * unstorage over a folder, a key a file (`a:b:c` is `a/b/c`), made for agentgate's load:
 * `getKeys(prefix)` walks only the prefix's folder (unstorage's fs and fs-lite drivers walk
 * the whole tree for any prefix: 7 s to list one agent's threads in a 151,000-file folder),
 * at most `maxOpenFiles` file operations run at once, every failure rejects (fs-lite 1.17
 * resolves some with the Error object), and writes land whole (a temporary file renamed
 * over the old one), so a killed process leaves the old document or the new one, never half.
 */
export function createFsStorage(options: FsStorageOptions): Storage {
  return createStorage({ driver: agentgateFsDriver(options) });
}

/** The driver behind `createFsStorage`, for hosts that mount it into a storage of their own. */
export const agentgateFsDriver = defineDriver((options: FsStorageOptions) => {
  // Absolute, so a folder is known to be below it by its path.
  const root = resolve(options.dir);
  const limit = createLimit(options.maxOpenFiles ?? 64);
  const pathOf = (key: string) => join(root, ...key.split(":"));

  return {
    name: "agentgate-fs",
    options,
    async hasItem(key) {
      return limit(async () => (await stat(pathOf(key)).catch(ifMissing(null))) !== null);
    },
    async getItem(key) {
      return limit(() => readFile(pathOf(key), "utf8").catch(ifMissing(null)));
    },
    async setItem(key, value) {
      const path = pathOf(key);
      await limit(async () => {
        for (let tries = 1; ; tries++) {
          try {
            await mkdir(dirname(path), { recursive: true });
            return await writeWhole(path, value);
          } catch (error) {
            // A remove emptied a folder on the way and took it away meanwhile: made again.
            if ((error as NodeJS.ErrnoException)?.code !== "ENOENT" || tries >= 5) throw error;
          }
        }
      });
    },
    async removeItem(key) {
      await limit(async () => {
        const path = pathOf(key);
        await unlink(path).catch(ifMissing(undefined));
        // Folders left empty go too (a thread's own folder of stored responses, once swept), up to the root.
        for (let folder = dirname(path); folder.startsWith(root + sep); folder = dirname(folder)) {
          if (!(await rmdir(folder).then(() => true, () => false))) break;
        }
      });
    },
    async getKeys(base) {
      const prefix = (base ?? "").replace(/:+$/, "");
      // Only the folder the prefix names (or, for a partial segment, its parent) is walked.
      const folder = prefix === "" ? root : pathOf(prefix);
      const isFolder = (await limit(() => stat(folder).catch(ifMissing(null))))?.isDirectory();
      // A whole segment (`threads:`) without its folder (removed once empty) has no keys: the parent is not walked for it.
      if (!isFolder && prefix !== "" && base?.endsWith(":")) return [];
      const start = isFolder ? folder : dirname(folder);
      const files = await walk(start, limit);
      return files.map((file) => relative(root, file).split(sep).join(":"));
    },
    async clear(base) {
      const prefix = (base ?? "").replace(/:+$/, "");
      await limit(() => rm(prefix === "" ? root : pathOf(prefix), { recursive: true, force: true }));
    },
  };
});

// --- internal ---

/** Every file below `dir` (none when it does not exist), temporary files of unfinished writes left out. */
async function walk(dir: string, limit: Limit): Promise<string[]> {
  const files: string[] = [];
  const pending = [dir];
  while (pending.length > 0) {
    // A few folders at a time, each read within the open-file budget.
    const batch = pending.splice(0, 16);
    const listings = await Promise.all(batch.map((folder) => limit(() => readdir(folder, { withFileTypes: true }).catch(ifMissing([])))));
    listings.forEach((entries, i) => {
      for (const entry of entries) {
        const path = join(batch[i], entry.name);
        if (entry.isDirectory()) pending.push(path);
        else if (!entry.name.endsWith(".tmp")) files.push(path);
      }
    });
  }
  return files;
}

/** A catch handler: a missing file is `value`, any other failure rejects. */
function ifMissing<T>(value: T) {
  return (error: NodeJS.ErrnoException): T => {
    if (error?.code === "ENOENT" || error?.code === "ENOTDIR") return value;
    throw error;
  };
}
