import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { watchHolidayCalendars } from "./calendar-watch.ts";
import { createLogger } from "./logger.ts";

/** What the watch logs at start on a given day, read back from the JSON log lines. */
function warningsOn(day: string): { calendar: string; coveredUntil: string; msg: string }[] {
  const out = new PassThrough();
  const lines: string[] = [];
  out.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
  const stop = watchHolidayCalendars(createLogger("info", out), () => new Date(`${day}T12:00:00Z`));
  stop();
  return lines.map((line) => JSON.parse(line));
}

describe("holiday calendar watch", () => {
  it("says nothing while every calendar reaches more than 90 days ahead", () => {
    expect(warningsOn("2026-12-07")).toEqual([]);
  });

  it("warns 90 days before a calendar ends, naming it, its last day and whom it blocks", () => {
    const warnings = warningsOn("2027-10-02");
    expect(warnings.map((w) => [w.calendar, w.coveredUntil])).toEqual([
      ["ID", "2027-12-31"],
      ["KE", "2027-12-31"],
      ["SG", "2027-12-31"],
    ]);
    expect(warnings[0]!.msg).toContain("after that date every contact under ID is blocked");
  });
});
