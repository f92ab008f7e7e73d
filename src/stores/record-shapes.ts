import { isLedgerEntry } from "./ledger/rollups";
import type { AgentRecord, KeyRecord, StoredBalance, ThreadRecord } from "./records";
import type { ResponseRecord } from "./response-records";

/**
 * What a value read from storage must look like to be taken as data. Anything else (an
 * Error object a driver resolved instead of rejecting, as unstorage's fs drivers do on
 * EMFILE; a file torn by a killed process; a record missing fields) is a storage failure,
 * never "not found" or an empty record. Hand-written guards: they run on every request.
 */

export type Shape<T> = (value: unknown) => value is T;

/** Thrown for a value that is not what was stored; `failClosed` turns it into a 503 and logs it. */
export class UnreadableValueError extends Error {
  constructor(key: string, what: string, value: unknown, hint = "") {
    super(`[agentgate] storage returned ${describe(value)} for ${displayKey(key)}, not ${what}${hint}`);
    this.name = "UnreadableValueError";
  }
}

export const isAgentRecord: Shape<AgentRecord> = (value): value is AgentRecord => {
  const v = value as AgentRecord;
  return (
    isObject(value) &&
    strings(v.id, v.account_id, v.name, v.created_at, v.updated_at) &&
    (v.instructions === null || typeof v.instructions === "string") &&
    (v.models === null || (Array.isArray(v.models) && v.models.every((model) => typeof model === "string"))) &&
    (v.limits === null || isObject(v.limits)) &&
    (v.aliases == null || (isObject(v.aliases) && Object.values(v.aliases).every((model) => typeof model === "string"))) &&
    (v.truncation == null || v.truncation === "auto" || v.truncation === "disabled") &&
    (v.drop_unsupported_tools == null || typeof v.drop_unsupported_tools === "boolean")
  );
};

export const isKeyRecord: Shape<KeyRecord> = (value): value is KeyRecord => {
  const v = value as KeyRecord;
  return isObject(value) && strings(v.id, v.agent_id, v.account_id, v.name, v.start, v.digest, v.created_at) && (v.expires_at === null || typeof v.expires_at === "string");
};

export const isThreadRecord: Shape<ThreadRecord> = (value): value is ThreadRecord => {
  const v = value as ThreadRecord;
  return (
    isObject(value) &&
    strings(v.id, v.agent_id, v.account_id, v.created_at, v.updated_at) &&
    Array.isArray(v.messages) &&
    v.messages.every((message) => isObject(message) && typeof message.role === "string")
  );
};

export const isResponseRecord: Shape<ResponseRecord> = (value): value is ResponseRecord => {
  const v = value as ResponseRecord;
  return (
    isObject(value) &&
    strings(v.id, v.agent_id, v.account_id, v.thread_id, v.created_at) &&
    Array.isArray(v.input_items) &&
    isObject(v.response) &&
    Array.isArray(v.response.output)
  );
};

export const isString: Shape<string> = (value): value is string => typeof value === "string";

/** Whatever the driver is, a list of keys is an array of strings. */
export function checkKeys(prefix: string, keys: unknown): string[] {
  if (!Array.isArray(keys) || !keys.every(isString)) throw new UnreadableValueError(`${prefix}*`, "a list of keys", keys);
  return keys;
}

/**
 * A stored balance copy in either shape: `{micros, writer}`, or a bare number (written
 * before writers were named). Anything else throws: a torn copy is not a balance of 0,
 * and the ledger may lag behind it, so only an operator who removed it lets the ledger stand in.
 */
export function storedBalance(key: string, value: unknown): StoredBalance | null {
  if (value == null) return null;
  if (isMicros(value)) return { micros: value, writer: "legacy" };
  if (typeof value === "string" && /^\d+$/.test(value) && isMicros(Number(value))) return { micros: Number(value), writer: "legacy" };
  if (isObject(value) && isMicros(value.micros) && (value.lines === undefined || (Array.isArray(value.lines) && value.lines.every(isLedgerEntry)))) {
    const { micros, writer, lines } = value as unknown as StoredBalance;
    return { micros, writer: typeof writer === "string" && writer ? writer : "legacy", ...(lines?.length && { lines }) };
  }
  throw new UnreadableValueError(key, "a balance", value, `: remove ${key} to have it rebuilt from the ledger`);
}

// --- internal ---

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Error);
}

function strings(...values: unknown[]): boolean {
  return values.every((value) => typeof value === "string");
}

function isMicros(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** What came back, for the log: its kind, never its content (a thread holds private messages). */
function describe(value: unknown): string {
  if (value instanceof Error) return `an error (${value.message})`;
  if (typeof value === "string") return `a string of ${value.length} characters`;
  if (Array.isArray(value)) return "an array";
  if (isObject(value)) return `an object with fields ${Object.keys(value).slice(0, 10).join(", ") || "(none)"}`;
  return `a ${typeof value}`;
}

/** A key record's name holds the key's digest: only its first characters go to the log. */
function displayKey(key: string): string {
  return key.startsWith("keys:") && key.length > 17 ? `${key.slice(0, 17)}…` : key;
}
