/**
 * Why a promise cannot fall due on `dueDate` (YYYY-MM-DD), or undefined when it can. A date
 * before today is broken already: pausing the journey for it only delays contact. Dates carry
 * no zone, so "today" is the date where it is earliest (UTC-12): a debtor anywhere may promise
 * for their own today. More than a year out is a slip of the keyboard (9999), and would pause
 * the journey for good.
 * @example promiseDueDateProblem("2026-12-01", Date.parse("2026-12-07T00:00:00Z")) // "must be today (2026-12-06 …) or later"
 */
export function promiseDueDateProblem(dueDate: string, now: number): string | undefined {
  const today = new Date(now - 12 * 3_600_000).toISOString().slice(0, 10);
  const yearOut = new Date(now + 366 * 86_400_000).toISOString().slice(0, 10);
  if (dueDate < today) return `must be today (${today} where the day is earliest, UTC-12) or later`;
  if (dueDate > yearOut) return `must be within a year (by ${yearOut})`;
  return undefined;
}
