import type { Holiday, HolidayCalendar } from "../types.ts";
import { ID_HOLIDAYS } from "./ID.ts";
import { KE_HOLIDAYS } from "./KE.ts";
import { SG_HOLIDAYS } from "./SG.ts";

const CALENDARS = new Map<string, HolidayCalendar>([ID_HOLIDAYS, KE_HOLIDAYS, SG_HOLIDAYS].map((c) => [c.id, c]));

/** A holiday calendar's data: the years it is complete for, its sources and its holidays. */
export function holidayCalendar(calendarId: string): HolidayCalendar {
  const calendar = CALENDARS.get(calendarId);
  if (!calendar) throw new Error(`No holiday calendar ${calendarId}`);
  return calendar;
}

/** What a calendar says about a date: nothing (a year without data, before or after those it has), or the holiday or null. */
export type HolidayLookup = { covered: false; before: boolean } | { covered: true; holiday: Holiday | null };

/**
 * Looks up a local date in a holiday calendar.
 *
 * @example lookUpHoliday("ID", "2026-08-17") // { covered: true, holiday: { name: "Hari Proklamasi ..." } }
 */
export function lookUpHoliday(calendarId: string, date: string): HolidayLookup {
  const calendar = holidayCalendar(calendarId);
  const year = Number(date.slice(0, 4));
  if (!calendar.years.includes(year)) return { covered: false, before: year < Math.min(...calendar.years) };
  return { covered: true, holiday: calendar.holidays.find((h) => h.date === date) ?? null };
}
