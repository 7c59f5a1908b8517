import { lastEndedMonth, snapshotDue } from "../domain/mis/snapshots.ts";
import { reportSettings, snapshotTakenAt, takeBucketSnapshot } from "../store/portfolio-reports.ts";
import type { ActivityDeps } from "./types.ts";

export function createBucketSnapshotActivities({ db, clock, logger }: ActivityDeps) {
  return {
    /**
     * Takes the DPD-bucket snapshot of the month that last ended in the reporting zone, unless
     * one taken since it ended exists (so an hourly schedule takes each month once, and catches
     * up after downtime). Answers the month and accounts snapshotted, or null when none was due.
     */
    async takeMonthEndSnapshot(): Promise<{ month: string; accounts: number } | null> {
      const { timeZone } = await reportSettings(db);
      const month = lastEndedMonth(clock(), timeZone);
      if (!snapshotDue(month, await snapshotTakenAt(db, month.month))) return null;
      const accounts = await takeBucketSnapshot(db, month.month, { actor: "system", scheduled: true });
      logger.info({ month: month.month, accounts, timeZone }, "month-end bucket snapshot taken");
      return { month: month.month, accounts };
    },
  };
}
