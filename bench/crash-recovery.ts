// `npx tsx bench/crash-recovery.ts [holdTtlMs] [runBeforeKillMs]`: how long after `kill -9` of one of two
// gateway processes on one Redis its holds are released and its threads take requests
// again (the scenario of test/redis-crash.test.ts, with the default TTL unless given).
import { runCrash } from "../test/_crash";
import { startRedis } from "../test/_redis";

const holdTtlMs = process.argv[2] ? Number(process.argv[2]) : undefined;
// The streams' age at the kill: recovery takes the TTL minus the time since their last renewal.
const runBeforeKillMs = Number(process.argv[3] ?? 2000);
const redis = await startRedis();
try {
  const report = await runCrash({ redisUrl: redis.url, holdTtlMs, threads: 4, runBeforeKillMs, timeoutMs: 120_000 });
  const seconds = (ms?: number) => (ms === undefined ? "never" : `${(ms / 1000).toFixed(1)} s`);
  console.log(`hold TTL ${holdTtlMs ?? "default (30000)"} ms, ${report.threadIds.length} streams killed ${runBeforeKillMs} ms after they started`);
  console.log(`  held before the kill: ${report.reservedBeforeKill} micro-USD; busy: ${report.busyBeforeKill.join(", ")}`);
  console.log(`  holds released after ${seconds(report.releasedAfterMs)}; every thread continued after ${seconds(report.threadsFreeAfterMs)}`);
  console.log(`  afterwards: balance ${report.final.balance_micros}, ledger ${report.ledgerSum}, lowest balance seen ${report.lowestBalance}`);
} finally {
  await redis.stop();
}
