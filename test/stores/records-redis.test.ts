import { createStorage } from "unstorage";
import redisDriver from "unstorage/drivers/redis";
import { inject } from "vitest";
import { testRecords } from "./_records-suite";

let run = 0;
testRecords(
  "redis",
  // Each test gets its own key prefix on the shared test server.
  () => createStorage({ driver: redisDriver({ url: inject("redisUrl"), base: `records-test-${process.pid}-${run++}` }) }),
  async (storage) => {
    await storage.clear();
    await storage.dispose();
  },
);
