import { createStorage } from "unstorage";
import { createMemoryAtomics } from "../../src/stores/memory-atomics";
import { createRecords } from "../../src/stores/records";
import type { Atomics } from "../../src/stores/atomics";
import { testBudgets } from "./_budgets-suite";

// One process, one state: handles on the same namespace are the same driver.
const instances = new Map<string, Atomics>();
testBudgets("memory", (namespace) => {
  let atomics = instances.get(namespace);
  if (!atomics) instances.set(namespace, (atomics = createMemoryAtomics({ records: createRecords(createStorage()) })));
  return atomics;
});
