import { z } from "zod";
import { fieldProblems, ProblemError } from "../api/problem.ts";

/** Reporting days: calendar days in the reporting zone (report settings), inclusive at both ends. */
export interface Period {
  from: string;
  to: string;
  timeZone: string;
}

const MAX_DAYS = 366;
const day = z.iso.date({ error: "must be a date YYYY-MM-DD" });
const periodQuery = z.object({ from: day.optional(), to: day.optional() });

const periodProblem = (field: string, reason: string) => new ProblemError(400, "Invalid request", `invalid ${field}`, [{ field, reason }]);

/** Days from `from` to `to` (0 when equal). */
function daysBetween(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / 86_400_000;
}

/** The UTC calendar day of an instant: day arithmetic on YYYY-MM-DD strings, free of any zone's offset. */
const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

/** The calendar day `n` days after `day` (before when negative). @example addDays("2026-03-01", -1) // "2026-02-28" */
const addDays = (day: string, n: number): string => utcDay(new Date(Date.parse(day) + n * 86_400_000));

/** The calendar day of an instant in a time zone. @example dayIn(new Date("2026-12-01T20:00:00Z"), "Asia/Jakarta") // "2026-12-02" */
export const dayIn = (at: Date, timeZone: string): string => new Intl.DateTimeFormat("en-CA", { timeZone }).format(at);

/**
 * The period a page shows, in days of the reporting zone: `?from=&to=` when given (a 400
 * problem naming the field when invalid), else to today from the day of `since` or from the
 * first of the `lastDays` calendar days ending today (clamped to the maximum length).
 * @example periodOf({ to: "2026-12-31" }, { since: new Date("2026-12-01") }, now, "UTC") // { from: "2026-12-01", to: "2026-12-31", timeZone: "UTC" }
 * @example periodOf({}, { lastDays: 90 }, new Date("2026-12-15T10:00:00Z"), "UTC") // { from: "2026-09-17", to: "2026-12-15", timeZone: "UTC" }
 */
export function periodOf(query: Record<string, string | undefined>, byDefault: { since: Date } | { lastDays: number }, now: Date, timeZone: string): Period {
  const parsed = periodQuery.safeParse({ from: query.from || undefined, to: query.to || undefined });
  if (!parsed.success) throw new ProblemError(400, "Invalid request", "invalid period", fieldProblems(parsed.error, "query"));
  const today = dayIn(now, timeZone);
  // Counted in calendar days: 24-hour steps back from now miss or add a day across a DST change.
  const first = "since" in byDefault ? dayIn(byDefault.since, timeZone) : addDays(today, 1 - byDefault.lastDays);
  const to = parsed.data.to ?? today;
  const from = parsed.data.from ?? [first, addDays(to, 1 - MAX_DAYS)].sort().at(-1)!;
  if (parsed.data.from && from > to) throw periodProblem("query.from", "must not be after to (today when not given)");
  if (daysBetween(from, to) >= MAX_DAYS) throw periodProblem("query.from", `the period is limited to ${MAX_DAYS} days`);
  return { from: from > to ? to : from, to, timeZone };
}

/** Every day of the period, in order. */
export function daysOf(period: { from: string; to: string }): string[] {
  const days: string[] = [];
  for (let t = Date.parse(period.from); t <= Date.parse(period.to); t += 86_400_000) days.push(utcDay(new Date(t)));
  return days;
}
