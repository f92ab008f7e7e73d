import { createAPIError } from "../errors";

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const ZONE = /(Z|[+-]\d{2}:?\d{2})$/i;
/** The furthest time from the epoch a JavaScript Date holds, in ms. */
const MAX_DATE_MS = 8.64e15;

/**
 * A time in a query parameter, in ms: Unix seconds, a day (`YYYY-MM-DD`, its UTC midnight)
 * or an ISO 8601 time (UTC unless it names its zone). Anything else (a day that does not exist, a time
 * past a Date's range, what `Date.parse` would guess at) is a 400 naming the parameter.
 */
export function parseTimeParam(value: string | undefined, param: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const day = DAY.exec(value);
  const time = day ? null : ISO_TIME.exec(value);
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : day ? utcDay(day) : time ? Date.parse(ZONE.test(value) ? value : `${value}Z`) : NaN;
  // The calendar day must exist (2024-02-30 does not roll over to March), alone or in a time.
  const dayText = day ? value : time?.[1];
  const valid = Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS && (dayText === undefined || existingDay(dayText));
  if (!valid) throw createAPIError({ code: "invalid_request", param, message: `\`${param}\` must be a day (YYYY-MM-DD), an ISO 8601 time or Unix seconds.` });
  return ms;
}

function utcDay(day: RegExpExecArray): number {
  return Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
}

function existingDay(text: string): boolean {
  const day = DAY.exec(text);
  return day !== null && new Date(utcDay(day)).toISOString().startsWith(text);
}
