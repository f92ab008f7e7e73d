import { createId } from "../ids";
import type { Logger } from "../runtime";
import { balanceFromLedger, checkMicros } from "./atomics";
import type { LedgerStore } from "./ledger/types";
import type { Records, StoredBalance } from "./records";
import { script, type ScriptRunner } from "./redis-scripts";

/**
 * The Redis driver's side of the stored balance copies (`balances:<account>`), used when
 * it is given the records: seeding an account from the copy, and writing each change
 * back to it, so the in-process and Redis drivers can take turns over one storage.
 */

/** Accounts checked against storage, remembered per process; past this many the list starts over (a re-check is harmless). */
const MAX_CHECKED_ACCOUNTS = 100_000;
/** A busy account's copy is rewritten at most this often per instance. */
const WRITE_SPACING_MS = 50;
/** After a failed write-through, the next try waits this long, doubling up to 30 s. */
const WRITE_RETRY_MS = 1_000;

type KeyOf = (scope: string, what: string) => string;

/**
 * Makes sure Redis holds the newest balance of an account before a money script runs.
 * Each process checks each account against the stored copy once (one storage read and
 * one SEED call, on the account's first request in this process), because only storage
 * can tell that an in-process driver spent or credited since Redis last held the
 * account. After that nothing is read from storage: a money script that finds the
 * account unseeded (Redis lost its data, or was emptied) answers `unseeded`, and the
 * account is checked again before the call is repeated.
 */
export function createSeeding(run: ScriptRunner, key: KeyOf, records: Records | undefined, ledger: LedgerStore | undefined, logger: Logger, onStaleCopy: (accountId: string) => void) {
  const checked = new Set<string>();
  const pending = new Map<string, Promise<void>>();

  const ledgerSum = async (accountId: string) => (ledger ? await balanceFromLedger(ledger, accountId) : null) ?? 0;

  const seed = async (accountId: string) => {
    // No copy (never written yet, or removed after it was torn; a torn copy throws): the
    // ledger stands in, signed as such. SEED uses it only when Redis holds nothing for the
    // account: the ledger may miss charges not written yet, Redis's balance does not.
    const fromLedger = async (): Promise<StoredBalance | null> => {
      const micros = ledger ? await balanceFromLedger(ledger, accountId) : null;
      return micros === null ? null : { micros, writer: "ledger" };
    };
    const copy = (await records!.getStoredBalanceCopy(accountId)) ?? (await fromLedger());
    if (copy) checkMicros(copy.micros, `stored balance of ${accountId}`);
    // Lines an in-process driver wrote ahead with this balance and died before the ledger
    // had them: into the ledger now, since Redis's own copies of the balance carry none.
    if (ledger) for (const line of copy?.lines ?? []) await ledger.append(line);
    const keys = [key(accountId, "balance"), key(accountId, "balance-meta")];
    const args = [copy ? "1" : "0", String(copy?.micros ?? 0), copy?.writer ?? "", createId("", 16)];
    for (let attempt = 0; attempt < 5; attempt++) {
      const [outcome, held] = (await run(SEED, keys, [...args, "check", "", ""])) as [string, string];
      if (outcome === "seeded" && copy?.writer.startsWith("redis:")) {
        logger.warn(
          `[agentgate] Redis held no balance for account ${accountId}, though storage has the copy Redis wrote through (${copy.micros} micro-USD): Redis lost its data? Seeded it from that copy, which misses at most the last changes not yet written back.`,
        );
      }
      // Redis kept its own balance and the copy says otherwise (its writer was killed before
      // writing back): refresh the copy now, or an in-process driver would start from it.
      if (outcome === "kept" && copy && String(copy.micros) !== held) onStaleCopy(accountId);
      if (outcome !== "conflict") return;
      // A Redis balance from before write-through, and a copy that disagrees: both may miss
      // money, so the ledger decides (once per account; compared-and-set, in case an
      // older instance still changes the balance meanwhile).
      const sum = await ledgerSum(accountId);
      const [reconciled] = (await run(SEED, keys, [...args, "ledger", held, String(sum)])) as [string];
      if (reconciled === "reconciled") {
        logger.warn(`[agentgate] Redis (${held} micro-USD) and the stored copy (${copy?.micros} micro-USD) disagreed on the balance of account ${accountId}, which Redis held from before balances were written through: set it to the sum of its ledger, ${sum} micro-USD.`);
        return;
      }
    }
    throw new Error(`[agentgate] could not seed the Redis balance of account ${accountId}: it kept changing`);
  };

  const check = (accountId: string): Promise<void> | undefined => {
    if (!records || checked.has(accountId)) return undefined;
    let running = pending.get(accountId);
    if (!running) {
      running = seed(accountId)
        .then(() => {
          if (checked.size >= MAX_CHECKED_ACCOUNTS) checked.clear();
          checked.add(accountId);
        })
        .finally(() => pending.delete(accountId));
      pending.set(accountId, running);
    }
    return running;
  };

  return {
    /** Runs one money script, checking the account first on its first use in this process. */
    async call(accountId: string, script: () => Promise<unknown>): Promise<unknown> {
      const first = check(accountId);
      if (first) await first;
      for (let attempt = 0; ; attempt++) {
        const reply = await script();
        if (!(Array.isArray(reply) && reply[0] === "unseeded")) return reply;
        if (attempt === 3) throw new Error(`[agentgate] the Redis balance of account ${accountId} keeps vanishing (is something deleting keys?)`);
        checked.delete(accountId);
        await check(accountId);
      }
    },
  };
}

/**
 * Writes balances back to their stored copies, off the request's path: at most one
 * writer per account per process, which reads the balance from Redis, writes it, and
 * reads again: if the balance changed meanwhile (here or on another instance) it writes
 * again, so the last write to land is always the newest balance, even when two
 * instances' writes cross. The first change of a quiet account is written at once; the
 * changes that follow within `WRITE_SPACING_MS` share the next write, so a busy account
 * costs each instance at most one storage write (and two small Redis reads) per
 * `WRITE_SPACING_MS`. A failed write is retried with backoff; `flush` (on close) writes
 * what is left.
 */
export function createWriteThrough(run: ScriptRunner, key: KeyOf, records: Records | undefined, logger: Logger) {
  interface Copy {
    running?: Promise<void>;
    retry?: ReturnType<typeof setTimeout>;
    dirty: boolean;
    failures: number;
  }
  const copies = new Map<string, Copy>();
  let closing = false;
  let lastReported = 0;

  const snapshot = async (accountId: string) => {
    const [balance, epoch, rev] = (await run(SNAPSHOT, [key(accountId, "balance"), key(accountId, "balance-meta")], [])) as [string, string, string];
    return { micros: Number(balance), epoch, rev };
  };

  // A pause after each write gathers the changes that follow into the next one; close() cuts it short.
  const sleepers = new Set<() => void>();
  const pause = () =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, WRITE_SPACING_MS);
      timer.unref?.();
      sleepers.add(wake);
    });

  const write = async (accountId: string, copy: Copy) => {
    try {
      for (let extra = 0; ; ) {
        copy.dirty = false;
        const now = await snapshot(accountId);
        // Not seeded (Redis lost its data): the copy is the best there is; leave it.
        if (!now.epoch) break;
        await records!.putStoredBalance(accountId, now.micros, `redis:${now.epoch}`);
        // Read again after the write landed: if the balance moved meanwhile, on any
        // instance, this write may have overwritten a newer one: write again.
        const next = await snapshot(accountId);
        const moved = next.rev !== now.rev || next.epoch !== now.epoch;
        if (closing) {
          // A few more rounds at most: instances still running write their own changes back.
          if ((!moved && !copy.dirty) || ++extra > 5) break;
          continue;
        }
        await pause();
        if (!moved && !copy.dirty) break;
      }
      copy.failures = 0;
      copy.running = undefined;
      copies.delete(accountId);
    } catch (error) {
      copy.running = undefined;
      copy.failures++;
      const now = Date.now();
      if (now - lastReported > 10_000) {
        lastReported = now;
        logger.error(`[agentgate] could not write the balance of account ${accountId} back to storage; retrying (Redis keeps the balance meanwhile)`, error instanceof Error ? error.message : String(error));
      }
      if (closing) return;
      copy.dirty = true;
      copy.retry = setTimeout(() => {
        copy.retry = undefined;
        copy.running = write(accountId, copy);
      }, Math.min(WRITE_RETRY_MS * 2 ** (copy.failures - 1), 30_000));
      copy.retry.unref?.();
    }
  };

  return {
    /** A balance changed: write it back soon (never awaited by the request). */
    changed(accountId: string) {
      if (!records || closing) return;
      let copy = copies.get(accountId);
      if (!copy) copies.set(accountId, (copy = { dirty: false, failures: 0 }));
      copy.dirty = true;
      if (!copy.running && !copy.retry) copy.running = write(accountId, copy);
    },
    /** Waits for every write, and makes a last try at those waiting to retry. */
    async flush() {
      closing = true;
      for (const wake of [...sleepers]) wake();
      const all = [...copies.entries()].map(([accountId, copy]) => {
        if (copy.retry) {
          clearTimeout(copy.retry);
          copy.retry = undefined;
          copy.running = write(accountId, copy);
        }
        return copy.running;
      });
      await Promise.all(all);
    },
  };
}

// --- scripts ---

// Decides, atomically, which balance Redis keeps for an account, so any number of
// instances checking at once seed it exactly once. KEYS: balance, balance-meta.
// ARGV: '1' if storage has a copy, its micros, its writer, a new epoch, the mode
// ('check', or 'ledger' to set the ledger's sum), the legacy balance seen, the ledger's sum.
// balance-meta holds the epoch (the copies Redis writes are signed 'redis:<epoch>'), the
// writer of the copy Redis was seeded from ('from'), and rev (bumped by every change).
// A copy signed by neither was written by someone else after Redis took the account
// (an in-process driver, since Redis was last used): it is newer, and Redis adopts it.
// The ledger's sum standing in for a missing copy (writer 'ledger') is no copy: Redis
// keeps any balance it holds, and seeds from it only when it holds nothing.
const SEED = script(`
local has_copy = ARGV[1] == '1'
local micros, writer, epoch = ARGV[2], ARGV[3], ARGV[4]
local stand_in = has_copy and writer == 'ledger'
local held = redis.call('GET', KEYS[1])
local meta = redis.call('HMGET', KEYS[2], 'epoch', 'from')
local function seed(value, from)
  redis.call('SET', KEYS[1], value)
  redis.call('HSET', KEYS[2], 'epoch', epoch, 'from', from)
  redis.call('HINCRBY', KEYS[2], 'rev', 1)
end
if meta[1] then
  if not has_copy or stand_in or writer == 'redis:' .. meta[1] or writer == meta[2] then return { 'kept', held or '0' } end
  seed(micros, writer)
  return { 'reseeded', held or '0' }
end
if ARGV[5] == 'ledger' then
  if (held or '') ~= ARGV[6] then return { 'moved', held or '' } end
  seed(ARGV[7], has_copy and writer or 'none')
  return { 'reconciled', ARGV[7] }
end
if held then
  -- A balance from before write-through: kept if the copy agrees (or there is none).
  if has_copy and not stand_in and held ~= micros then return { 'conflict', held } end
  redis.call('HSET', KEYS[2], 'epoch', epoch, 'from', (has_copy and not stand_in) and writer or 'none')
  redis.call('HINCRBY', KEYS[2], 'rev', 1)
  return { 'adopted', held }
end
seed(has_copy and micros or '0', has_copy and writer or 'none')
return { 'seeded', has_copy and micros or '0' }
`);

// What the write-through copies. KEYS: balance, balance-meta.
const SNAPSHOT = script(`
local meta = redis.call('HMGET', KEYS[2], 'epoch', 'rev')
return { redis.call('GET', KEYS[1]) or '0', meta[1] or '', meta[2] or '0' }
`);
