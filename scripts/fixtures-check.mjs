#!/usr/bin/env node
// Fails when test/fixtures/wire differs from the reference it was copied from (../shared/wire,
// beside the clone), so the copies cannot drift. Skips, saying so, when the reference is absent.
// Plain Node, no dependencies: CI runs it in a clone that may not be installed.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const copy = join(root, "test/fixtures/wire");
const reference = process.env.WIRE_REFERENCE ?? join(root, "../shared/wire");

if (!existsSync(reference)) {
  console.log(`fixtures:check skipped: no reference at ${reference} (it exists beside the repository on the project's own machines).`);
  process.exit(0);
}

/** Every file under `dir`, as paths relative to it, sorted. */
function files(dir) {
  const out = [];
  const walk = (at) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.sort();
}

const ours = new Set(files(copy));
const theirs = new Set(files(reference));
const problems = [];
for (const file of theirs) {
  if (!ours.has(file)) problems.push(`missing from test/fixtures/wire: ${file}`);
  else if (!readFileSync(join(copy, file)).equals(readFileSync(join(reference, file)))) problems.push(`differs from the reference: ${file}`);
}
for (const file of ours) if (!theirs.has(file)) problems.push(`not in the reference: ${file}`);

if (problems.length > 0) {
  console.error(`fixtures:check failed: test/fixtures/wire and ${reference} differ (copy the reference again: cp -r ../shared/wire/. test/fixtures/wire/)`);
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log(`fixtures:check passed: ${ours.size} files in test/fixtures/wire match ${reference}.`);
