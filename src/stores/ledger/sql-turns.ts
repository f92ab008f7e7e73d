import type { SqlDatabase as Database } from "./sql-database";

const queues = new WeakMap<Database, Promise<unknown>>();

/**
 * Runs `run` after every statement this module sent on `db` before it. db0's `postgresql`
 * connector is one pg Client, which runs one query at a time anyway (it does not pipeline)
 * and deprecates being handed a second while the first runs (pg 9 will refuse it).
 */
export function inTurn<T>(db: Database, run: () => Promise<T>): Promise<T> {
  const previous = queues.get(db) ?? Promise.resolve();
  const next = previous.then(run, run);
  queues.set(db, next.catch(() => {}));
  return next;
}

/** True for connectors that are a single pg Client; db0 0.3 names none, so there any PostgreSQL counts (in turn is always correct). */
export function isSingleClient(db: Database): boolean {
  const connector = (db as { connector?: string }).connector;
  return connector === "postgresql" || connector === "cloudflare-hyperdrive-postgresql" || (connector === undefined && db.dialect === "postgresql");
}
