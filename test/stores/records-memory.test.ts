import { createStorage } from "unstorage";
import { testRecords } from "./_records-suite";

testRecords("memory", () => createStorage());
