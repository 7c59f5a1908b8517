// The worker's workflow bundle: deterministic code only.
export { accountWorkflow, accountState, contactOutcome } from "./account.ts";
export { campaignWorkflow } from "./campaign.ts";
