import { describe, expect, it } from "vitest";
import { launchRefusal, scheduleSchema, startAtOf } from "./schedule.ts";

const now = new Date("2026-12-01T02:00:00Z");

describe("schedule", () => {
  it.each([
    [{}, undefined],
    [{ startAt: "2026-12-01T09:00:00+07:00" }, undefined],
    [{ startAt: "2026-12-01T10:00:00+07:00" }, "2026-12-01T03:00:00.000Z"],
    [{ startAt: "2026-11-30T10:00:00Z", endAt: "2026-12-02T00:00:00Z" }, undefined],
  ])("%j starts enrolling at %s (now 02:00Z)", (schedule, startAt) => {
    expect(startAtOf(scheduleSchema.parse(schedule), now)).toBe(startAt);
  });

  it.each([
    [{}, undefined],
    [{ endAt: "2026-12-01T09:00:01+07:00" }, undefined],
    [{ endAt: "2026-12-01T09:00:00+07:00" }, "its schedule ended at 2026-12-01T09:00:00+07:00"],
    [{ startAt: "2026-11-01T00:00:00Z", endAt: "2026-11-02T00:00:00Z" }, "its schedule ended at 2026-11-02T00:00:00Z"],
  ])("%j launched at 02:00Z: %s", (schedule, refusal) => {
    expect(launchRefusal(scheduleSchema.parse(schedule), now)).toBe(refusal);
  });

  it.each([
    [{ startAt: "2026-12-01 09:00" }, "startAt"],
    [{ startAt: "2026-12-01T09:00:00" }, "startAt"],
    [{ endAt: "2026-12-01T09:00:00Z", startAt: "2026-12-01T09:00:00Z" }, "endAt"],
    [{ start: "2026-12-01T09:00:00Z" }, ""],
  ])("refuses %j at %j", (schedule, field) => {
    const result = scheduleSchema.safeParse(schedule);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join("."))).toEqual([field]);
  });
});
