import { WorkflowExecutionAlreadyStartedError } from "@temporalio/common";
import { ParentClosePolicy, proxyActivities, startChild, type ActivityOptions } from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";
import type { CloseReason } from "../activities/placement.ts";

/** Agency notices are retried with backoff, without an attempt limit, until the agency acknowledges. */
export const agencyNoticeOptions: ActivityOptions = {
  startToCloseTimeout: "30 seconds",
  retry: { initialInterval: "1 second", backoffCoefficient: 2, maximumInterval: "10 minutes" },
};

const { closePlacement } = proxyActivities<Activities>(agencyNoticeOptions);

export interface PlacementClosureInput {
  placementId: string;
  reason: CloseReason;
}

/** Closes a placement and tells its agency, for as long as the agency takes to acknowledge. */
export async function placementClosureWorkflow(input: PlacementClosureInput): Promise<string> {
  return (await closePlacement(input)).status;
}

/**
 * Starts `placementClosureWorkflow` as `placement-closed-<placementId>` and returns once it
 * runs: the journey goes on (or ends) without waiting for the agency, and the notice outlives
 * the journey (ABANDON) until acknowledged.
 * @example await startPlacementClosure({ placementId, reason: "paid" });
 */
export async function startPlacementClosure(input: PlacementClosureInput): Promise<void> {
  try {
    await startChild(placementClosureWorkflow, {
      workflowId: `placement-closed-${input.placementId}`,
      args: [input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (error) {
    // A journey run again (after a reset) finds its notice already on its way: one is enough.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
