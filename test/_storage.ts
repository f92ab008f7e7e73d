import type { Storage } from "unstorage";

/** Every key and value in a storage, to prove a failed request changed nothing. */
export async function snapshotStorage(storage: Storage): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of (await storage.getKeys()).sort()) out[key] = await storage.getItem(key);
  return out;
}
