import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const FIXTURE = fileURLToPath(new URL("../fixtures/fs-listing.ts", import.meta.url));

describe("the playground's fs storage", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentgate-playground-fds-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("writes and lists 3000 threads at once in a process allowed only 128 open files", () => {
    // Unbounded, each read holds a descriptor while it waits its turn: thousands at once
    // run out (EMFILE), and the fs driver resolves the error instead of rejecting it.
    const script = `ulimit -n 128 && exec "$0" --import tsx "$1" "$2" 3000`;
    const out = execFileSync("bash", ["-c", script, process.execPath, FIXTURE, join(dataDir, "many")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual({ listed: 3000 });
  });
});
