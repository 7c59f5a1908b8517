import { describe, expect, it } from "vitest";
import { lastEndedMonth, snapshotDue } from "./snapshots.ts";

describe("lastEndedMonth", () => {
  it.each([
    // now, zone, month, endedAt
    ["2026-12-06T00:57:00Z", "UTC", "2026-11", "2026-12-01T00:00:00.000Z"],
    ["2026-12-01T00:00:00Z", "UTC", "2026-11", "2026-12-01T00:00:00.000Z"],
    ["2026-11-30T23:59:59Z", "UTC", "2026-10", "2026-11-01T00:00:00.000Z"],
    // 30 November 17:00 UTC is already 1 December in Jakarta (UTC+7).
    ["2026-11-30T17:00:00Z", "Asia/Jakarta", "2026-11", "2026-11-30T17:00:00.000Z"],
    ["2026-11-30T16:59:59Z", "Asia/Jakarta", "2026-10", "2026-10-31T17:00:00.000Z"],
    // New York's month starts at 05:00 UTC in winter, 04:00 UTC in summer (DST).
    ["2026-12-01T04:59:00Z", "America/New_York", "2026-10", "2026-11-01T04:00:00.000Z"],
    ["2026-12-01T05:00:00Z", "America/New_York", "2026-11", "2026-12-01T05:00:00.000Z"],
    ["2026-07-01T04:00:00Z", "America/New_York", "2026-06", "2026-07-01T04:00:00.000Z"],
    // January rolls back into the previous year.
    ["2027-01-01T00:30:00Z", "Europe/London", "2026-12", "2027-01-01T00:00:00.000Z"],
    ["2027-01-01T00:30:00Z", "Asia/Kolkata", "2026-12", "2026-12-31T18:30:00.000Z"],
  ])("at %s in %s the last ended month is %s, ended %s", (now, zone, month, endedAt) => {
    const last = lastEndedMonth(new Date(now), zone);
    expect(last.month).toBe(month);
    expect(last.endedAt.toISOString()).toBe(endedAt);
  });

  it("refuses a zone that is not IANA", () => {
    expect(() => lastEndedMonth(new Date("2026-12-06T00:00:00Z"), "Mars/Olympus")).toThrow(/Mars\/Olympus/);
  });
});

describe("snapshotDue", () => {
  const month = { endedAt: new Date("2026-12-01T00:00:00Z") };
  it.each([
    ["never taken", null, true],
    ["taken mid-month by an operator", "2026-11-15T10:00:00Z", true],
    ["taken the instant the month ended", "2026-12-01T00:00:00Z", false],
    ["taken after the month ended", "2026-12-01T01:05:00Z", false],
  ])("%s: due %s", (_what, taken, due) => {
    expect(snapshotDue(month, taken === null ? null : new Date(taken))).toBe(due);
  });
});
