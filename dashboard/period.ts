import { z } from "zod";
import { fieldProblems, ProblemError } from "../api/problem.ts";

/** Reporting days are UTC calendar days, inclusive at both ends. */
export interface Period {
  from: string;
  to: string;
}

const MAX_DAYS = 366;
const day = z.iso.date({ error: "must be a date YYYY-MM-DD" });
const periodQuery = z.object({ from: day.optional(), to: day.optional() });

const periodProblem = (field: string, reason: string) => new ProblemError(400, "Invalid request", `invalid ${field}`, [{ field, reason }]);

/** Days from `from` to `to` (0 when equal). */
function daysBetween(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / 86_400_000;
}

/** The UTC calendar day of an instant. */
export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

/**
 * The period a page shows: `?from=&to=` when given (a 400 problem naming the field when
 * invalid), else from `defaultFrom` (clamped to the maximum length) to today.
 * @example periodOf({ to: "2026-12-31" }, new Date("2026-12-01"), now) // { from: "2026-12-01", to: "2026-12-31" }
 */
export function periodOf(query: Record<string, string | undefined>, defaultFrom: Date, now: Date): Period {
  const parsed = periodQuery.safeParse({ from: query.from || undefined, to: query.to || undefined });
  if (!parsed.success) throw new ProblemError(400, "Invalid request", "invalid period", fieldProblems(parsed.error, "query"));
  const to = parsed.data.to ?? utcDay(now);
  const from = parsed.data.from ?? [utcDay(defaultFrom), utcDay(new Date(Date.parse(to) - (MAX_DAYS - 1) * 86_400_000))].sort().at(-1)!;
  if (parsed.data.from && from > to) throw periodProblem("query.from", "must not be after to (today when not given)");
  if (daysBetween(from, to) >= MAX_DAYS) throw periodProblem("query.from", `the period is limited to ${MAX_DAYS} days`);
  return { from: from > to ? to : from, to };
}

/** Every day of the period, in order. */
export function daysOf(period: Period): string[] {
  const days: string[] = [];
  for (let t = Date.parse(period.from); t <= Date.parse(period.to); t += 86_400_000) days.push(utcDay(new Date(t)));
  return days;
}
