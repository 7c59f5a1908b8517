import { describe, expect, it } from "vitest";
import { promiseDueDateProblem } from "./promise-dates.ts";

describe("promiseDueDateProblem", () => {
  it.each([
    // now (UTC), due date, refused?
    ["2026-12-07T00:00:00Z", "2026-12-07", false],
    ["2026-12-07T00:00:00Z", "2026-12-06", false], // still the 6th where the day is earliest (UTC-12)
    ["2026-12-07T00:00:00Z", "2026-12-05", true],
    ["2026-12-07T12:00:00Z", "2026-12-06", true], // midnight at UTC-12: the 6th is over everywhere
    ["2026-12-07T12:00:00Z", "2026-12-07", false],
    ["2026-12-07T00:00:00Z", "2027-12-08", false], // 366 days out
    ["2026-12-07T00:00:00Z", "2027-12-09", true],
    ["2026-12-07T00:00:00Z", "9999-12-31", true],
  ])("at %s, due %s: refused %s", (now, dueDate, refused) => {
    expect(promiseDueDateProblem(dueDate, Date.parse(now)) !== undefined).toBe(refused);
  });

  it("says which bound the date breaks", () => {
    const now = Date.parse("2026-12-07T00:00:00Z");
    expect(promiseDueDateProblem("2026-12-01", now)).toBe("must be today (2026-12-06 where the day is earliest, UTC-12) or later");
    expect(promiseDueDateProblem("2028-01-01", now)).toBe("must be within a year (by 2027-12-08)");
  });
});
