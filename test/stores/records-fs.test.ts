import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStorage } from "unstorage";
import fsLiteDriver from "unstorage/drivers/fs-lite";
import fsDriver from "unstorage/drivers/fs";
import { createFsStorage } from "../../src/stores/fs-storage";
import { boundedDriver } from "../../src/stores/bounded-driver";
import { testRecords } from "./_records-suite";

const dirs: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), "agentgate-records-"));
  dirs.push(dir);
  return dir;
};
const cleanup = () => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
};

testRecords("fs-lite", () => createStorage({ driver: fsLiteDriver({ base: fresh() }) }), cleanup);
testRecords("bounded fs-lite", () => createStorage({ driver: boundedDriver(fsLiteDriver({ base: fresh() })) }), cleanup);
testRecords("fs", () => createStorage({ driver: fsDriver({ base: fresh() }) }), async (storage) => {
  await storage.dispose();
  cleanup();
});

testRecords("agentgate's fs", () => createFsStorage({ dir: fresh() }), cleanup);
