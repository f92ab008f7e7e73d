import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabase, type Database } from "db0";
import libsql from "db0/connectors/libsql/node";
import { createStorage } from "unstorage";
import db0Driver from "unstorage/drivers/db0";
import { afterAll } from "vitest";
import { testRecords } from "./_records-suite";

// Documents in SQLite through unstorage's db0 driver (listings are indexed prefix queries).
const dir = mkdtempSync(join(tmpdir(), "agentgate-records-sql-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const databases = new Map<object, Database>();

testRecords(
  "SQLite (unstorage's db0 driver over libsql)",
  () => {
    const database = createDatabase(libsql({ url: `file:${join(dir, `records-${++count}.db`)}` }));
    const storage = createStorage({ driver: db0Driver({ database }) });
    databases.set(storage, database);
    return storage;
  },
  async (storage) => {
    await databases.get(storage)?.dispose();
  },
);
