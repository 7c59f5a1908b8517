// Workflow ids are derived from the data so that starting twice is a no-op: Temporal
// refuses a second running workflow with the same id.

/** @example campaignWorkflowId("c1") // "campaign-c1" */
export function campaignWorkflowId(campaignId: string): string {
  return `campaign-${campaignId}`;
}

/** @example accountWorkflowId("c1", "a1") // "campaign-c1-account-a1" */
export function accountWorkflowId(campaignId: string, accountId: string): string {
  return `campaign-${campaignId}-account-${accountId}`;
}
