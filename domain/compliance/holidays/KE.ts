import type { HolidayCalendar } from "../types.ts";

/**
 * Kenya: public holidays under the Public Holidays Act (Cap. 110). A holiday falling on a
 * Sunday is observed on the following Monday ("in-lieu" entries). The Idd holidays are
 * declared each year by a Kenya Gazette notice of the Cabinet Secretary for Interior once
 * the moon is sighted, so their dates here are estimates (noted per entry) until gazetted.
 */
export const KE_HOLIDAYS: HolidayCalendar = {
  id: "KE",
  years: [2026, 2027],
  sources: [
    "Public Holidays Act (Cap. 110), Laws of Kenya, https://new.kenyalaw.org",
    "Statute Law (Miscellaneous Amendments) Act 2024 — 10 October observed as Mazingira Day",
    "Kenya Gazette notices declaring Idd-ul-Fitr and Idd-ul-Azha, https://new.kenyalaw.org",
  ],
  holidays: [
    // 2026
    { date: "2026-01-01", name: "New Year's Day", type: "public-holiday", status: "published" },
    // estimated: Idd-ul-Fitr 1447 H; confirm against the 2026 gazette notice
    { date: "2026-03-20", name: "Idd-ul-Fitr", type: "public-holiday", status: "provisional" },
    { date: "2026-04-03", name: "Good Friday", type: "public-holiday", status: "published" },
    { date: "2026-04-06", name: "Easter Monday", type: "public-holiday", status: "published" },
    { date: "2026-05-01", name: "Labour Day", type: "public-holiday", status: "published" },
    // estimated: Idd-ul-Azha 1447 H; confirm against the 2026 gazette notice
    { date: "2026-05-27", name: "Idd-ul-Azha", type: "public-holiday", status: "provisional" },
    { date: "2026-06-01", name: "Madaraka Day", type: "public-holiday", status: "published" },
    { date: "2026-10-10", name: "Mazingira Day", type: "public-holiday", status: "published" },
    { date: "2026-10-20", name: "Mashujaa Day", type: "public-holiday", status: "published" },
    { date: "2026-12-12", name: "Jamhuri Day", type: "public-holiday", status: "published" },
    { date: "2026-12-25", name: "Christmas Day", type: "public-holiday", status: "published" },
    { date: "2026-12-26", name: "Boxing Day", type: "public-holiday", status: "published" },

    // 2027 — statutory dates from the Act; the Idd dates are estimates.
    // statutory fixed date
    { date: "2027-01-01", name: "New Year's Day", type: "public-holiday", status: "provisional" },
    // estimated: Idd-ul-Fitr 1448 H (crescent not visible on 8 March)
    { date: "2027-03-10", name: "Idd-ul-Fitr", type: "public-holiday", status: "provisional" },
    // statutory: Good Friday (Easter is 28 March)
    { date: "2027-03-26", name: "Good Friday", type: "public-holiday", status: "provisional" },
    // statutory: Easter Monday
    { date: "2027-03-29", name: "Easter Monday", type: "public-holiday", status: "provisional" },
    // statutory fixed date (a Saturday)
    { date: "2027-05-01", name: "Labour Day", type: "public-holiday", status: "provisional" },
    // estimated: Idd-ul-Azha 1448 H (16 May if gazetted on the Sunday, observed Monday 17 May)
    { date: "2027-05-17", name: "Idd-ul-Azha", type: "public-holiday", status: "provisional" },
    // statutory fixed date
    { date: "2027-06-01", name: "Madaraka Day", type: "public-holiday", status: "provisional" },
    // statutory fixed date (a Sunday)
    { date: "2027-10-10", name: "Mazingira Day", type: "public-holiday", status: "provisional" },
    // statutory: Sunday holiday observed on Monday
    { date: "2027-10-11", name: "Mazingira Day (observed)", type: "in-lieu", status: "provisional" },
    // statutory fixed date
    { date: "2027-10-20", name: "Mashujaa Day", type: "public-holiday", status: "provisional" },
    // statutory fixed date (a Sunday)
    { date: "2027-12-12", name: "Jamhuri Day", type: "public-holiday", status: "provisional" },
    // statutory: Sunday holiday observed on Monday
    { date: "2027-12-13", name: "Jamhuri Day (observed)", type: "in-lieu", status: "provisional" },
    // statutory fixed date (a Saturday)
    { date: "2027-12-25", name: "Christmas Day", type: "public-holiday", status: "provisional" },
    // statutory fixed date (a Sunday)
    { date: "2027-12-26", name: "Boxing Day", type: "public-holiday", status: "provisional" },
    // statutory: Sunday holiday observed on Monday
    { date: "2027-12-27", name: "Boxing Day (observed)", type: "in-lieu", status: "provisional" },
  ],
};
