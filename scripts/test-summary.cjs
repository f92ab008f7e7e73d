#!/usr/bin/env node
// One line per Node run of the suite (passed, failed, skipped), and, when vitest exited
// non-zero, the reason: the files that failed outside their tests (a hook, an import) and the
// unhandled errors vitest reported, both of which leave every test "passed".
// Usage: test-summary.cjs <vitest json> <vitest log> <vitest exit code>
const { readFileSync } = require("node:fs");

const [jsonPath, logPath, exitCode] = process.argv.slice(2);
const report = JSON.parse(readFileSync(jsonPath, "utf8"));
const lines = [
  `Node ${process.version}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped` +
    (exitCode === "0" ? "" : ` (vitest exited ${exitCode})`),
];
if (exitCode !== "0") {
  for (const file of report.testResults ?? []) {
    if (file.status === "failed") lines.push(`  failed file: ${file.name}: ${String(file.message ?? "").split("\n").slice(0, 6).join(" | ")}`);
  }
  // vitest prints unhandled errors in a block of their own; its JSON report does not carry them.
  const log = readFileSync(logPath, "utf8").replace(/\x1b\[[0-9;]*m/g, "");
  const start = log.indexOf("Unhandled Error");
  if (start >= 0) lines.push(...log.slice(start).split("\n").slice(0, 30).map((line) => `  ${line}`));
}
console.log(lines.join("\n"));
