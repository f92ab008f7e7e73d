/**
 * Runs a SQLite statement again while another connection holds the lock, for `ms` after the
 * first refusal (not after the call: statements queued behind this process's own must not lose their turn).
 * SQLite answers SQLITE_BUSY without waiting when waiting could deadlock (a reader upgrading
 * to a writer beside another writer, in rollback-journal mode), even under a busy timeout.
 * A statement refused as busy did not run, and the ledger's statements are idempotent, so a
 * retry is safe.
 */
export async function retryWhileBusy<T>(run: () => Promise<T>, ms: number): Promise<T> {
  let until: number | undefined;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    try {
      return await run();
    } catch (error) {
      until ??= Date.now() + ms;
      if (!isBusy(error) || Date.now() >= until) throw error;
      // Jittered, so two processes that collided do not collide again in step.
      await new Promise((resolve) => setTimeout(resolve, pause * (0.5 + Math.random())));
    }
  }
}

/** SQLITE_BUSY as libsql, better-sqlite3 and node:sqlite report it. */
function isBusy(error: unknown): boolean {
  const { code, errcode, message } = (error ?? {}) as { code?: unknown; errcode?: unknown; message?: unknown };
  return (typeof code === "string" && code.startsWith("SQLITE_BUSY")) || errcode === 5 || (typeof message === "string" && message.includes("database is locked"));
}
