/** Ids forgotten in one call at most; a fuller batch goes at once. */
const MAX_BATCH = 200;

/**
 * Gathers the ids forgotten per account within `delayMs` into one call of `forget`: a
 * busy account's landed ledger lines cost one Redis script per batch, not one per
 * request. Forgetting later is harmless (the ledger takes each line id once), so only
 * the number of calls changes. Each caller's promise settles with its batch's call.
 */
export function batchedForget(forget: (accountId: string, ids: string[]) => Promise<void>, delayMs = 20) {
  interface Batch {
    ids: string[];
    timer: ReturnType<typeof setTimeout>;
    done: Promise<void>;
    go(): void;
  }
  const batches = new Map<string, Batch>();

  const open = (accountId: string): Batch => {
    let go!: () => void;
    const started = new Promise<void>((resolve) => (go = resolve));
    const batch: Batch = {
      ids: [],
      timer: setTimeout(() => batch.go(), delayMs),
      // Started once (timer, a full batch or flush), then the ids are fixed.
      done: started.then(() => {
        if (batches.get(accountId) === batch) batches.delete(accountId);
        clearTimeout(batch.timer);
        return forget(accountId, batch.ids);
      }),
      go,
    };
    // A waiting batch never keeps the process alive; `flush` sends it on close.
    (batch.timer as { unref?: () => void }).unref?.();
    batches.set(accountId, batch);
    return batch;
  };

  return {
    forget(accountId: string, ids: readonly string[]): Promise<void> {
      if (!ids.length) return Promise.resolve();
      const batch = batches.get(accountId) ?? open(accountId);
      batch.ids.push(...ids);
      if (batch.ids.length >= MAX_BATCH) batch.go();
      return batch.done;
    },
    /** Sends every waiting batch now (closing). */
    async flush(): Promise<void> {
      const waiting = [...batches.values()];
      for (const batch of waiting) batch.go();
      await Promise.allSettled(waiting.map((batch) => batch.done));
    },
  };
}
