import { proxyActivities } from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";

const { takeMonthEndSnapshot } = proxyActivities<Activities>({
  // A snapshot copies every account: minutes on a large portfolio.
  startToCloseTimeout: "30 minutes",
  retry: { initialInterval: "10 seconds", maximumInterval: "5 minutes" },
});

/** Started by the hourly `month-end-bucket-snapshot-<task queue>` schedule: takes last month's snapshot once it is due. */
export async function bucketSnapshotWorkflow(): Promise<{ month: string; accounts: number } | null> {
  return await takeMonthEndSnapshot();
}
