import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createFsLedger } from "../../src/stores/ledger/fs";
import { describeLedgerStore } from "./_ledger-suite";

describeLedgerStore(
  "fs",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "agentgate-ledger-"));
    return { ledger: createFsLedger({ dir }), reopen: async () => createFsLedger({ dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
  { persistent: true },
);
