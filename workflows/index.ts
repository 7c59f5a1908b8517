// The worker's workflow bundle: deterministic code only.
export { accountWorkflow } from "./account.ts";
export { campaignWorkflow } from "./campaign.ts";
export { bucketSnapshotWorkflow } from "./bucket-snapshot.ts";
export { placementClosureWorkflow } from "./placement-closure.ts";
export { promiseSettlementWorkflow } from "./promise-settlement.ts";
