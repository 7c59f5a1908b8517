import { DateTime, IANAZone } from "luxon";
import { InvalidGateInputError } from "./errors.ts";
import type { Weekday } from "./types.ts";

const DAY_MS = 86_400_000;
const WEEKDAYS: readonly Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
// A date and a time of day with an offset. A date alone ("2026-12-07", even "2026-12") ends in
// what looks like an offset, and would be read as a UTC midnight: another local day.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-](\d{2})(?::?(\d{2}))?)$/i;
// Offsets in use run from -12:00 to +14:00; a larger one is a typing slip.
const MAX_OFFSET_MINUTES = 14 * 60;

/** An instant as seen on the local calendar and clock of one zone. */
export interface LocalView {
  zone: string;
  local: DateTime;
  /** Local calendar date as a day number (days since 1970-01-01). */
  day: number;
  /** Seconds since local midnight as read on the local clock. */
  clock: number;
}

export function viewIn(instant: DateTime, zone: string): LocalView {
  const local = instant.setZone(zone);
  const wallClockMs = local.toMillis() + local.offset * 60_000;
  const day = Math.floor(wallClockMs / DAY_MS);
  return { zone, local, day, clock: Math.floor((wallClockMs - day * DAY_MS) / 1000) };
}

/** An ISO-8601 date and time that carries an offset or `Z` (`+05:30` or `+0530`, `z`, minutes without seconds), in UTC; null if not one. */
export function readInstant(value: string): DateTime | null {
  const match = INSTANT.exec(value);
  if (!match) return null;
  const [, hours = "0", minutes = "0"] = match;
  if (Number(minutes) > 59 || Number(hours) * 60 + Number(minutes) > MAX_OFFSET_MINUTES) return null;
  const instant = DateTime.fromISO(value, { zone: "utc" });
  return instant.isValid ? instant : null;
}

/** `readInstant`, to the millisecond, or an error naming the field. */
export function parseInstant(field: string, value: string): DateTime {
  const instant = readInstant(value);
  if (!instant) throw new InvalidGateInputError(field, value);
  return instant;
}

/** "2026-12-07T01:00:00Z": UTC, no milliseconds. */
export function formatInstant(instant: DateTime): string {
  const iso = instant.toUTC().toISO({ suppressMilliseconds: true });
  if (iso === null) throw new Error("invalid instant");
  return iso;
}

export function assertZone(zone: string): void {
  // IANAZone.create caches the zone and its validity; isValidZone would not.
  if (!IANAZone.create(zone).isValid) throw new InvalidGateInputError("timeZone", zone);
}

/** A day number as "yyyy-MM-dd". */
export function formatDay(day: number): string {
  return DateTime.fromMillis(day * DAY_MS, { zone: "utc" }).toFormat("yyyy-MM-dd");
}

/** "HH:mm" as seconds since midnight, with its parts. */
export function parseClock(hhmm: string): { hour: number; minute: number; seconds: number } {
  const [hour = 0, minute = 0] = hhmm.split(":").map(Number);
  return { hour, minute, seconds: hour * 3600 + minute * 60 };
}

/** "21:30", or "07:59:59" when the seconds matter. */
export function formatClock(local: DateTime): string {
  return local.toFormat(local.second === 0 ? "HH:mm" : "HH:mm:ss");
}

export function weekdayOf(local: DateTime): Weekday {
  const weekday = WEEKDAYS[local.weekday - 1];
  if (weekday === undefined) throw new Error(`invalid weekday ${local.weekday}`);
  return weekday;
}
