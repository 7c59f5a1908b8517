import { condition, defineQuery, defineSignal, proxyActivities, setHandler } from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";
import type { AttemptOutcome } from "../domain/attempt-status.ts";
import { durationMs } from "../domain/duration.ts";
import type { Strategy } from "../domain/strategy.ts";

export interface AccountWorkflowInput {
  campaignId: string;
  accountId: string;
  enrolmentId: string;
  /** The strategy as it was at launch: a running account keeps its version. */
  strategy: Strategy;
}

export interface ContactOutcomeSignal {
  attemptId: string;
  status: string;
  outcome: AttemptOutcome;
}

export interface AccountState {
  stepId: string | null;
  waitingFor: string | null;
  waitingUntil: string | null;
  lastOutcome: string | null;
}

export const contactOutcome = defineSignal<[ContactOutcomeSignal]>("contactOutcome");
export const accountState = defineQuery<AccountState>("accountState");

const { sendSms, finishEnrolment } = proxyActivities<Activities>({
  startToCloseTimeout: "1 minute",
  // Transient vendor errors are thrown and retried with backoff; permanent ones come back
  // as a failed outcome the strategy can react to.
  retry: { initialInterval: "2 seconds", backoffCoefficient: 2, maximumInterval: "5 minutes" },
});

/** Walks one account through the campaign's strategy. */
export async function accountWorkflow(input: AccountWorkflowInput): Promise<string> {
  const outcomes = new Map<string, AttemptOutcome>();
  const state: AccountState = { stepId: null, waitingFor: null, waitingUntil: null, lastOutcome: null };
  setHandler(contactOutcome, (signal) => void outcomes.set(signal.attemptId, signal.outcome));
  setHandler(accountState, () => state);

  for (const step of input.strategy.steps) {
    state.stepId = step.id;
    const sent = await sendSms({ enrolmentId: input.enrolmentId, step });
    if (sent.outcome) outcomes.set(sent.attemptId, sent.outcome);
    const timeout = durationMs(step.waitForOutcome);
    Object.assign(state, { waitingFor: `outcome of ${step.channel} attempt`, waitingUntil: new Date(Date.now() + timeout).toISOString() });
    await condition(() => outcomes.has(sent.attemptId), timeout);
    Object.assign(state, { waitingFor: null, waitingUntil: null, lastOutcome: outcomes.get(sent.attemptId) ?? "no-outcome" });
  }
  const outcome = state.lastOutcome === "delivered" ? "contacted" : "not-contacted";
  await finishEnrolment({ enrolmentId: input.enrolmentId, outcome });
  return outcome;
}
