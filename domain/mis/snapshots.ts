import { DateTime } from "luxon";

/**
 * The month that last ended at `now` in the reporting zone, and the instant it ended. Roll and
 * cure rates compare month-end DPD-bucket snapshots; the one for `month` is due once `endedAt`
 * has passed and stays due until a snapshot taken at or after `endedAt` exists.
 * @example lastEndedMonth(new Date("2026-12-01T03:00:00Z"), "Asia/Jakarta") // { month: "2026-11", endedAt: 2026-11-30T17:00:00Z }
 */
export function lastEndedMonth(now: Date, timeZone: string): { month: string; endedAt: Date } {
  const start = DateTime.fromJSDate(now, { zone: timeZone }).startOf("month");
  if (!start.isValid) throw new RangeError(`not an IANA time zone: ${timeZone}`);
  return { month: start.minus({ months: 1 }).toFormat("yyyy-MM"), endedAt: start.toJSDate() };
}

/**
 * The instant `month` (YYYY-MM) ends in the reporting zone.
 * @example monthEnd("2026-11", "Asia/Jakarta") // 2026-11-30T17:00:00Z
 */
export function monthEnd(month: string, timeZone: string): Date {
  return DateTime.fromISO(`${month}-01`, { zone: timeZone }).plus({ months: 1 }).toJSDate();
}

/**
 * Whether the snapshot of the month that last ended must be taken: none was, or the latest was
 * taken before that month ended (a mid-month snapshot an operator asked for).
 * @example snapshotDue({ endedAt: new Date("2026-12-01T00:00:00Z") }, null) // true
 */
export function snapshotDue(month: { endedAt: Date }, lastTakenAt: Date | null): boolean {
  return lastTakenAt === null || lastTakenAt < month.endedAt;
}
