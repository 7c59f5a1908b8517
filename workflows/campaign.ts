import { continueAsNew, proxyActivities, workflowInfo } from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";

export interface CampaignWorkflowInput {
  campaignId: string;
  /** Where enrolment resumes after continue-as-new. */
  cursor?: string;
  enrolled?: number;
}

const { enrolPage } = proxyActivities<Activities>({
  startToCloseTimeout: "10 minutes",
  heartbeatTimeout: "1 minute",
  retry: { initialInterval: "1 second", maximumInterval: "1 minute" },
});

// Each page adds a handful of events; a fresh run every 100 pages keeps history small.
const PAGES_PER_RUN = 100;

/**
 * Enrols the campaign's segment page by page; each page starts its accounts' workflows.
 * Continues as new before its history grows large, so 100,000 accounts stay cheap.
 */
export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<{ enrolled: number }> {
  let { cursor, enrolled = 0 } = input;
  let pages = 0;
  do {
    const page = await enrolPage({ campaignId: input.campaignId, cursor });
    enrolled += page.enrolled;
    cursor = page.nextCursor;
    if (cursor && (++pages >= PAGES_PER_RUN || workflowInfo().continueAsNewSuggested)) {
      await continueAsNew<typeof campaignWorkflow>({ campaignId: input.campaignId, cursor, enrolled });
    }
  } while (cursor);
  return { enrolled };
}
