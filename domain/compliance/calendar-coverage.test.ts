import { describe, expect, it } from "vitest";
import { calendarCoverage, calendarsEndingWithin } from "./calendar-coverage.ts";

describe("holiday calendar coverage", () => {
  it("names each calendar the policies use, how far it reaches and who uses it", () => {
    expect(calendarCoverage()).toEqual([
      { calendar: "ID", coveredUntil: "2027-12-31", jurisdictions: ["ID"] },
      { calendar: "KE", coveredUntil: "2027-12-31", jurisdictions: ["KE"] },
      { calendar: "SG", coveredUntil: "2027-12-31", jurisdictions: ["SG"] },
    ]);
  });

  it.each([
    ["today", "2026-12-07", 90, []],
    ["the day before the horizon reaches the end", "2027-10-01", 90, []],
    ["the horizon reaches the last covered day", "2027-10-02", 90, ["ID", "KE", "SG"]],
    ["the last covered day itself", "2027-12-31", 0, ["ID", "KE", "SG"]],
    ["after the end", "2028-01-05", 0, ["ID", "KE", "SG"]],
  ] as const)("%s (%s, within %i days): %j", (_, today, days, calendars) => {
    expect(calendarsEndingWithin(today, days).map((c) => c.calendar)).toEqual(calendars);
  });
});
