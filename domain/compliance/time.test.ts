import { describe, expect, it } from "vitest";
import { readInstant } from "./time.ts";

describe("readInstant", () => {
  it.each([
    ["2026-12-07T13:00:00Z", "2026-12-07T13:00:00.000Z"],
    ["2026-12-07T18:30:00.750+05:30", "2026-12-07T13:00:00.750Z"],
    ["2026-12-07T18:30+0530", "2026-12-07T13:00:00.000Z"],
    ["2026-12-07t13:00:00z", "2026-12-07T13:00:00.000Z"],
    ["2026-12-07T01:00:00+14:00", "2026-12-06T11:00:00.000Z"],
    ["2026-12-07T01:00:00-12", "2026-12-07T13:00:00.000Z"],
  ])("reads %s as %s", (value, iso) => {
    expect(readInstant(value)?.toISO()).toBe(iso);
  });

  it.each([
    ["2026-12-07", "a date alone (its -07 is no offset)"],
    ["2026-12", "a month alone"],
    ["2026-12-07T12:00:00", "no offset"],
    ["2026-12-07T10:00:00+25:00", "an offset no place uses"],
    ["2026-12-07T10:00:00+14:30", "beyond +14:00"],
    ["2026-12-07T10:00:00+05:60", "60 minutes"],
    ["2026-02-30T10:00:00Z", "no such day"],
    ["tomorrow", "words"],
  ])("refuses %s (%s)", (value) => {
    expect(readInstant(value)).toBeNull();
  });
});
