import { createId } from "../../ids";

/** Characters of randomness in a response id (`resp_` + these); its items' ids carry them too. */
const RANDOM_LENGTH = 32;
const ITEM_ID = /^[a-z]+_([A-Za-z0-9]{32})_[io]\d+$/;

/** A new response id: `resp_` and 32 base62 characters. */
export function newResponseId(): string {
  return createId("resp_", RANDOM_LENGTH);
}

/**
 * The id of a response's item: `msg_`/`fc_`, the response's own randomness, then `_i<n>`
 * for its n-th input item or `_o<n>` for its n-th output item. So an `item_reference`
 * names the one response to read, and no index of items is kept.
 */
export function itemId(responseId: string, prefix: "msg" | "fc" | "fco", side: "i" | "o", index: number): string {
  return `${prefix}_${responseId.slice("resp_".length)}_${side}${index}`;
}

/** The response an item id of ours belongs to; null for any other id (a client's own, say). */
export function responseOfItem(id: string): string | null {
  const match = ITEM_ID.exec(id);
  return match ? `resp_${match[1]}` : null;
}
