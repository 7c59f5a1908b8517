import { holidayCalendar } from "./holidays/index.ts";
import { JURISDICTIONS, policyFor } from "./policies/index.ts";

export interface CalendarCoverage {
  calendar: string;
  /** The last local date the calendar is complete for, "yyyy-MM-dd"; later dates are blocked. */
  coveredUntil: string;
  /** Jurisdictions whose policy checks holidays against this calendar. */
  jurisdictions: string[];
}

/** How far each holiday calendar the policies use reaches, and which jurisdictions use it. */
export function calendarCoverage(): CalendarCoverage[] {
  const byCalendar = new Map<string, CalendarCoverage>();
  for (const jurisdiction of JURISDICTIONS) {
    const rule = policyFor(jurisdiction).holidays;
    if (!rule) continue;
    const coverage = byCalendar.get(rule.calendar) ?? { calendar: rule.calendar, coveredUntil: lastCoveredDate(rule.calendar), jurisdictions: [] };
    coverage.jurisdictions.push(jurisdiction);
    byCalendar.set(rule.calendar, coverage);
  }
  return [...byCalendar.values()];
}

/** The last date of the calendar's latest complete year. */
export function lastCoveredDate(calendarId: string): string {
  return `${Math.max(...holidayCalendar(calendarId).years)}-12-31`;
}

/**
 * The calendars that end within `days` of `today` ("yyyy-MM-dd"), or have ended: contacts
 * under their jurisdictions are blocked (fail-closed) from the day after, until the next
 * year's calendar is added.
 * @example calendarsEndingWithin("2027-11-01", 90) // [{ calendar: "ID", coveredUntil: "2027-12-31", ... }, ...]
 */
export function calendarsEndingWithin(today: string, days: number): CalendarCoverage[] {
  const horizon = new Date(Date.parse(`${today}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
  return calendarCoverage().filter((c) => c.coveredUntil <= horizon);
}
