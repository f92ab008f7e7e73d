// Files on a local disk (Node's fs): their own entry, `agentgate/fs`, so the core entry
// stays web-standard and loads in Bun, workers and edge runtimes.
export { agentgateFsDriver, createFsStorage, type FsStorageOptions } from "./stores/fs-storage";
export { createFsLedger, type FsLedgerOptions } from "./stores/ledger/fs";
