import { proxyActivities } from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";

const { settleDuePromises } = proxyActivities<Activities>({
  startToCloseTimeout: "10 minutes",
  retry: { initialInterval: "10 seconds", maximumInterval: "5 minutes" },
});

/** Started by the hourly `promise-settlement-<task queue>` schedule. */
export async function promiseSettlementWorkflow(): Promise<number> {
  return await settleDuePromises();
}
