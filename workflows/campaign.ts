import { condition, continueAsNew, defineQuery, defineSignal, proxyActivities, setHandler, workflowInfo } from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";

export type CampaignControl = "pause" | "resume" | "cancel";

export interface CampaignWorkflowInput {
  campaignId: string;
  /** The schedule's start (ISO instant): nobody is enrolled or contacted before it. */
  startAt?: string;
  /** The schedule's end: every account still on its journey is cancelled then. */
  endAt?: string;
  /** Where enrolment resumes after continue-as-new; absent once every page is enrolled. */
  cursor?: string;
  enrolled?: number;
  phase?: CampaignProgress["phase"];
  paused?: boolean;
}

export interface CampaignProgress {
  phase: "scheduled" | "enrolling" | "running" | "completed" | "cancelled";
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
// How often a running campaign checks whether every account has finished: soon after its
// enrolment ends (many journeys are a message or two), then less often, at most a half
// minute after the last account finishes. About a dozen history events per check, so a run
// still reaches the history limit below only after hours. (Checks were hourly before: a
// timer's duration is not compared on replay, so those histories replay as they ran.)
const FIRST_COMPLETION_CHECK_MS = 5_000;
const COMPLETION_CHECK_MS = 30_000;
// After the schedule's end, how soon to look again: the cancelled accounts finish within moments.
const ENDED_CHECK_MS = 5_000;

/**
 * Waits for the schedule's start (answering pause, resume and cancel meanwhile), then enrols
 * the campaign's segment page by page (each page starts its accounts' workflows),
 * then stays to pass pause, resume and cancel on to every account and to mark the campaign
 * completed once every account has finished.
 */
export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<CampaignProgress> {
  const progress: CampaignProgress = {
    phase: input.phase ?? (input.startAt ? "scheduled" : "enrolling"),
    enrolled: input.enrolled ?? 0,
    paused: input.paused ?? false,
  };
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
      startAt: input.startAt,
      endAt: input.endAt,
      cursor,
      enrolled: progress.enrolled,
      phase: progress.phase,
      paused: progress.paused,
    });

  // A timer rather than Temporal's start delay: a delayed workflow runs no code, so it could
  // neither answer campaignProgress nor act on a cancel before startAt. Workflow time is
  // deterministic: Date.now() is the time of the current workflow task.
  const untilMs = (instant: string | undefined) => (instant === undefined ? Infinity : Date.parse(instant) - Date.now());
  while (progress.phase === "scheduled" && !cancelled) {
    await applyControls();
    if (cancelled || untilMs(input.startAt) <= 0) break;
    await condition(() => controls.length > 0, untilMs(input.startAt));
  }
  if (progress.phase === "scheduled" && !cancelled) progress.phase = "enrolling";

  let ended = false;
  const end = async () => {
    // The schedule's end: like a cancel for every account, but the campaign completes.
    ended = true;
    await signalEnrolments({ campaignId: input.campaignId, signal: "cancel" });
  };

  let pages = 0;
  while (progress.phase === "enrolling") {
    await applyControls();
    if (cancelled) break;
    if (untilMs(input.endAt) <= 0) {
      progress.phase = "running";
      break;
    }
    if (progress.paused) {
      if (input.endAt === undefined) await condition(() => controls.length > 0);
      else await condition(() => controls.length > 0, untilMs(input.endAt));
      continue;
    }
    const page = await enrolPage({ campaignId: input.campaignId, cursor });
    progress.enrolled += page.enrolled;
    cursor = page.nextCursor;
    if (!cursor) progress.phase = "running";
    else if (++pages >= PAGES_PER_RUN || workflowInfo().continueAsNewSuggested) await fresh();
  }

  let check = FIRST_COMPLETION_CHECK_MS;
  while (!cancelled) {
    await applyControls();
    if (cancelled) break;
    if (!ended && untilMs(input.endAt) <= 0) await end();
    const wait = ended ? ENDED_CHECK_MS : Math.min(check, untilMs(input.endAt));
    check = Math.min(check * 2, COMPLETION_CHECK_MS);
    if (await condition(() => controls.length > 0, wait)) continue;
    if (await completeCampaignIfDone({ campaignId: input.campaignId })) {
      progress.phase = "completed";
      return progress;
    }
    if (workflowInfo().historyLength > 2_000) await fresh();
  }
  progress.phase = "cancelled";
  return progress;
}
