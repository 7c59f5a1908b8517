import { ScheduleAlreadyRunning, type Client } from "@temporalio/client";
import type { Logger } from "./logger.ts";

/**
 * The schedule that takes each month's DPD-bucket snapshot (roll and cure rates read them),
 * one per task queue: its workflows run on the workers of the Tagih that created it.
 * @example bucketSnapshotSchedule("tagih") // "month-end-bucket-snapshot-tagih"
 */
export const bucketSnapshotSchedule = (taskQueue: string) => `month-end-bucket-snapshot-${taskQueue}`;

/**
 * The schedule that settles promises nobody waits on (see `settleDuePromises`), one per task queue.
 * @example promiseSettlementSchedule("tagih") // "promise-settlement-tagih"
 */
export const promiseSettlementSchedule = (taskQueue: string) => `promise-settlement-${taskQueue}`;

/**
 * Creates Tagih's Temporal schedules unless they exist (every worker start asks; the first
 * wins). Both run hourly. The snapshot schedule runs hourly rather than at one month-end
 * instant, so a change of reporting zone needs no schedule change and a month missed during an
 * outage is caught up (the activity takes a month once). A promise is broken within the hour
 * after its due date plus grace.
 */
export async function ensureSchedules(temporal: Client, taskQueue: string, logger: Logger): Promise<void> {
  const hourly = [
    { scheduleId: bucketSnapshotSchedule(taskQueue), workflowType: "bucketSnapshotWorkflow" },
    { scheduleId: promiseSettlementSchedule(taskQueue), workflowType: "promiseSettlementWorkflow" },
  ];
  for (const { scheduleId, workflowType } of hourly) {
    try {
      await temporal.schedule.create({
        scheduleId,
        spec: { intervals: [{ every: "1 hour" }] },
        action: { type: "startWorkflow", workflowType, taskQueue, args: [] },
        policies: { overlap: "SKIP", catchupWindow: "1 hour" },
      });
      logger.info({ scheduleId }, "schedule created");
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    }
  }
}
