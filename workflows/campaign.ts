import { condition, continueAsNew, defineQuery, defineSignal, proxyActivities, setHandler, workflowInfo } from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";

export type CampaignControl = "pause" | "resume" | "cancel";

export interface CampaignWorkflowInput {
  campaignId: string;
  /** Where enrolment resumes after continue-as-new; absent once every page is enrolled. */
  cursor?: string;
  enrolled?: number;
  phase?: CampaignProgress["phase"];
  paused?: boolean;
}

export interface CampaignProgress {
  phase: "enrolling" | "running" | "completed" | "cancelled";
  enrolled: number;
  paused: boolean;
}

export const campaignControl = defineSignal<[CampaignControl]>("campaignControl");
export const campaignProgress = defineQuery<CampaignProgress>("campaignProgress");

const { enrolPage } = proxyActivities<Activities>({
  startToCloseTimeout: "10 minutes",
  heartbeatTimeout: "20 seconds",
  retry: { initialInterval: "1 second", maximumInterval: "1 minute" },
});
const { signalEnrolments, completeCampaignIfDone } = proxyActivities<Activities>({
  startToCloseTimeout: "1 hour",
  heartbeatTimeout: "1 minute",
  retry: { initialInterval: "1 second", maximumInterval: "1 minute" },
});

// Each page adds a handful of events; a fresh run every 100 pages keeps history small.
const PAGES_PER_RUN = 100;
// How often a running campaign checks whether every account has finished.
const COMPLETION_CHECK = "1 hour";

/**
 * Enrols the campaign's segment page by page (each page starts its accounts' workflows),
 * then stays to pass pause, resume and cancel on to every account and to mark the campaign
 * completed once every account has finished.
 */
export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<CampaignProgress> {
  const progress: CampaignProgress = { phase: input.phase ?? "enrolling", enrolled: input.enrolled ?? 0, paused: input.paused ?? false };
  const controls: CampaignControl[] = [];
  setHandler(campaignControl, (c) => void controls.push(c));
  setHandler(campaignProgress, () => progress);
  let cursor = input.cursor;
  let cancelled = false;

  const applyControls = async () => {
    while (controls.length > 0) {
      const control = controls.shift()!;
      if (control === "cancel") cancelled = true;
      progress.paused = control === "pause" || (progress.paused && control !== "resume");
      await signalEnrolments({ campaignId: input.campaignId, signal: control });
    }
  };
  const fresh = () =>
    continueAsNew<typeof campaignWorkflow>({
      campaignId: input.campaignId,
      cursor,
      enrolled: progress.enrolled,
      phase: progress.phase,
      paused: progress.paused,
    });

  let pages = 0;
  while (progress.phase === "enrolling") {
    await applyControls();
    if (cancelled) break;
    if (progress.paused) {
      await condition(() => controls.length > 0);
      continue;
    }
    const page = await enrolPage({ campaignId: input.campaignId, cursor });
    progress.enrolled += page.enrolled;
    cursor = page.nextCursor;
    if (!cursor) progress.phase = "running";
    else if (++pages >= PAGES_PER_RUN || workflowInfo().continueAsNewSuggested) await fresh();
  }

  while (!cancelled) {
    await applyControls();
    if (cancelled) break;
    if (await condition(() => controls.length > 0, COMPLETION_CHECK)) continue;
    if (await completeCampaignIfDone({ campaignId: input.campaignId })) {
      progress.phase = "completed";
      return progress;
    }
    if (workflowInfo().historyLength > 2_000) await fresh();
  }
  progress.phase = "cancelled";
  return progress;
}
