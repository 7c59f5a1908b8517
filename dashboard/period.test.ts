import { describe, expect, it } from "vitest";
import { ProblemError } from "../api/problem.ts";
import { daysOf, periodOf } from "./period.ts";

const now = new Date("2026-12-15T10:00:00Z");
const launched = new Date("2026-12-01T23:30:00Z");

describe("the period a dashboard page shows", () => {
  it.each([
    [{}, { from: "2026-12-01", to: "2026-12-15" }],
    [{ from: "2026-12-10" }, { from: "2026-12-10", to: "2026-12-15" }],
    [{ to: "2026-12-05" }, { from: "2026-12-01", to: "2026-12-05" }],
    [{ to: "2026-11-20" }, { from: "2026-11-20", to: "2026-11-20" }],
    [
      { from: "", to: "" },
      { from: "2026-12-01", to: "2026-12-15" },
    ],
    [
      { from: "2025-12-15", to: "2026-12-15" },
      { from: "2025-12-15", to: "2026-12-15" },
    ],
  ])("%j gives %j", (query, period) => {
    expect(periodOf(query, { since: launched }, now, "UTC")).toEqual({ ...period, timeZone: "UTC" });
  });

  it("takes its default days in the reporting zone", () => {
    // 23:30 UTC on 1 December is 2 December in Jakarta (UTC+7); in Honolulu (UTC−10) the 15th starts at 10:00 UTC.
    expect(periodOf({}, { since: launched }, now, "Asia/Jakarta")).toEqual({ from: "2026-12-02", to: "2026-12-15", timeZone: "Asia/Jakarta" });
    expect(periodOf({}, { since: launched }, now, "Pacific/Honolulu")).toEqual({ from: "2026-12-01", to: "2026-12-15", timeZone: "Pacific/Honolulu" });
    expect(periodOf({}, { since: launched }, new Date("2026-12-15T09:00:00Z"), "Pacific/Honolulu").to).toBe("2026-12-14");
  });

  it("takes the last days in calendar days of the zone, across a DST change too", () => {
    expect(periodOf({}, { lastDays: 90 }, now, "UTC")).toEqual({ from: "2026-09-17", to: "2026-12-15", timeZone: "UTC" });
    // 23:30 on 19 November in Chicago (CST); 89 × 24 hours earlier is already 23 August (CDT).
    const autumn = periodOf({}, { lastDays: 90 }, new Date("2026-11-20T05:30:00Z"), "America/Chicago");
    expect(autumn).toEqual({ from: "2026-08-22", to: "2026-11-19", timeZone: "America/Chicago" });
    // 00:30 on 20 March in Chicago (CDT); 89 × 24 hours earlier is still 20 December (CST).
    const spring = periodOf({}, { lastDays: 90 }, new Date("2026-03-20T05:30:00Z"), "America/Chicago");
    expect(spring).toEqual({ from: "2025-12-21", to: "2026-03-20", timeZone: "America/Chicago" });
    expect([autumn, spring].map((p) => daysOf(p).length)).toEqual([90, 90]);
  });

  it("starts at most 366 days before its end by default", () => {
    expect(periodOf({}, { since: new Date("2020-01-01") }, now, "UTC")).toEqual({ from: "2025-12-15", to: "2026-12-15", timeZone: "UTC" });
  });

  it.each([
    [{ from: "2026-13-01" }, "query.from", "must be a date YYYY-MM-DD"],
    [{ to: "15/12/2026" }, "query.to", "must be a date YYYY-MM-DD"],
    [{ from: "2026-12-10", to: "2026-12-01" }, "query.from", "must not be after to (today when not given)"],
    [{ from: "2026-12-20" }, "query.from", "must not be after to (today when not given)"],
    [{ from: "2025-12-14", to: "2026-12-15" }, "query.from", "the period is limited to 366 days"],
  ])("refuses %j naming %s", (query, field, reason) => {
    const error = (() => {
      try {
        periodOf(query, { since: launched }, now, "UTC");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).errors).toEqual([{ field, reason }]);
  });

  it("lists every day, ends included", () => {
    expect(daysOf({ from: "2026-12-30", to: "2027-01-02" })).toEqual(["2026-12-30", "2026-12-31", "2027-01-01", "2027-01-02"]);
  });
});
