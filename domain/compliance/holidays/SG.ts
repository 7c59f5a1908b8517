import type { HolidayCalendar } from "../types.ts";

/**
 * Singapore: gazetted public holidays. Under the Holidays Act s.4(2) a holiday falling on
 * a Sunday makes the next day that is not itself a holiday a public holiday ("in-lieu").
 *
 * 2026 is MOM's published list (released 16 June 2025). 2027 is provisional until MOM
 * publishes it: fixed dates are statutory, the others estimated (noted per entry).
 */
export const SG_HOLIDAYS: HolidayCalendar = {
  id: "SG",
  years: [2026, 2027],
  sources: [
    "Ministry of Manpower, Public holidays for 2026, https://www.mom.gov.sg/employment-practices/public-holidays",
    "Holidays Act 1998 (2020 Rev. Ed.), https://sso.agc.gov.sg/Act/HA1998",
  ],
  holidays: [
    // 2026 — MOM list
    { date: "2026-01-01", name: "New Year's Day", type: "public-holiday", status: "published" },
    { date: "2026-02-17", name: "Chinese New Year", type: "public-holiday", status: "published" },
    { date: "2026-02-18", name: "Chinese New Year (second day)", type: "public-holiday", status: "published" },
    { date: "2026-03-21", name: "Hari Raya Puasa", type: "public-holiday", status: "published" },
    { date: "2026-04-03", name: "Good Friday", type: "public-holiday", status: "published" },
    { date: "2026-05-01", name: "Labour Day", type: "public-holiday", status: "published" },
    { date: "2026-05-27", name: "Hari Raya Haji", type: "public-holiday", status: "published" },
    { date: "2026-05-31", name: "Vesak Day", type: "public-holiday", status: "published" },
    { date: "2026-06-01", name: "Vesak Day (in lieu)", type: "in-lieu", status: "published" },
    { date: "2026-08-09", name: "National Day", type: "public-holiday", status: "published" },
    { date: "2026-08-10", name: "National Day (in lieu)", type: "in-lieu", status: "published" },
    { date: "2026-11-08", name: "Deepavali", type: "public-holiday", status: "published" },
    { date: "2026-11-09", name: "Deepavali (in lieu)", type: "in-lieu", status: "published" },
    { date: "2026-12-25", name: "Christmas Day", type: "public-holiday", status: "published" },

    // 2027 — provisional until MOM's list.
    // statutory fixed date
    { date: "2027-01-01", name: "New Year's Day", type: "public-holiday", status: "provisional" },
    // estimated: Chinese calendar (a Saturday)
    { date: "2027-02-06", name: "Chinese New Year", type: "public-holiday", status: "provisional" },
    // estimated: Chinese calendar (a Sunday)
    { date: "2027-02-07", name: "Chinese New Year (second day)", type: "public-holiday", status: "provisional" },
    // statutory rule s.4(2): the Sunday holiday moves to Monday
    { date: "2027-02-08", name: "Chinese New Year (in lieu)", type: "in-lieu", status: "provisional" },
    // estimated: 1 Syawal 1448 H per MUIS criteria
    { date: "2027-03-10", name: "Hari Raya Puasa", type: "public-holiday", status: "provisional" },
    // statutory: Good Friday (Easter is 28 March)
    { date: "2027-03-26", name: "Good Friday", type: "public-holiday", status: "provisional" },
    // statutory fixed date (a Saturday)
    { date: "2027-05-01", name: "Labour Day", type: "public-holiday", status: "provisional" },
    // estimated: 10 Zulhijjah 1448 H per MUIS criteria
    { date: "2027-05-17", name: "Hari Raya Haji", type: "public-holiday", status: "provisional" },
    // estimated: 15th day of the 4th lunar month
    { date: "2027-05-20", name: "Vesak Day", type: "public-holiday", status: "provisional" },
    // statutory fixed date
    { date: "2027-08-09", name: "National Day", type: "public-holiday", status: "provisional" },
    // estimated: Naraka Chaturdashi before the new moon of 29 October (some calendars give 29 October)
    { date: "2027-10-28", name: "Deepavali", type: "public-holiday", status: "provisional" },
    // statutory fixed date (a Saturday)
    { date: "2027-12-25", name: "Christmas Day", type: "public-holiday", status: "provisional" },
  ],
};
