import { z } from "zod";

const instant = z.iso.datetime({ offset: true, error: "must be an ISO 8601 instant with a zone offset (2026-12-01T09:00:00+07:00)" });

/** When a campaign starts and stops contacting debtors; both optional. */
export const scheduleSchema = z
  .object({ startAt: instant.optional(), endAt: instant.optional() })
  .strict()
  .refine((s) => s.startAt === undefined || s.endAt === undefined || Date.parse(s.endAt) > Date.parse(s.startAt), {
    path: ["endAt"],
    message: "must be after startAt",
  });

export type Schedule = z.output<typeof scheduleSchema>;

/**
 * Why a campaign with this schedule cannot be launched at `now`, if it cannot.
 * @example launchRefusal({ endAt: "2026-01-01T00:00:00Z" }, new Date("2026-02-01")) // "its schedule ended at 2026-01-01T00:00:00Z"
 */
export function launchRefusal(schedule: Schedule, now: Date): string | undefined {
  if (schedule.endAt !== undefined && Date.parse(schedule.endAt) <= now.getTime()) return `its schedule ended at ${schedule.endAt}`;
  return undefined;
}

/**
 * The instant enrolment starts: `startAt` when it is still ahead, else at once (undefined).
 * @example startAtOf({ startAt: "2030-01-01T00:00:00Z" }, new Date()) // "2030-01-01T00:00:00.000Z"
 */
export function startAtOf(schedule: Schedule, now: Date): string | undefined {
  if (schedule.startAt === undefined || Date.parse(schedule.startAt) <= now.getTime()) return undefined;
  return new Date(schedule.startAt).toISOString();
}
