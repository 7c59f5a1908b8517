import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";
import type { AccountFigures } from "../activities/journey.ts";
import type { AttemptOutcome } from "../domain/attempt-status.ts";
import { durationMs } from "../domain/duration.ts";
import type { ContactStep, Step, Strategy } from "../domain/strategy.ts";
import { conditionHolds, nextLocalTime, promiseBrokenAt, stepIndex } from "../domain/strategy-rules.ts";
import {
  accountState,
  cancel,
  contactOutcome,
  holdPlaced,
  holdReleased,
  pause,
  payment,
  promiseToPay,
  recalled,
  reply,
  resume,
  type AccountState,
  type PaymentSignal,
} from "./account-messages.ts";
import { agencyNoticeOptions, startPlacementClosure, type PlacementClosureInput } from "./placement-closure.ts";

export interface AccountWorkflowInput {
  campaignId: string;
  accountId: string;
  enrolmentId: string;
  /** The strategy as it was at launch: a running account keeps its version. */
  strategy: Strategy;
  /** The debtor's zone for "wait until 09:00" (the jurisdiction's first zone when unknown). */
  timeZone: string;
  daysPastDue: number;
  balanceMinor: string;
  /** Carried over by continue-as-new. */
  state?: AccountState;
  /** Payment references already counted, so a redelivered payment counts once. */
  paymentReferences?: string[];
  /** Absolute deadline of the step in progress (a wait), so an interruption resumes it. */
  stepDeadline?: number | null;
  /** Arrivals at each step so far, by step id, carried over by continue-as-new. */
  visits?: Record<string, number>;
}

const contactOptions = {
  // Short: a worker that dies mid-send is noticed and the send retried within half a minute.
  startToCloseTimeout: "30 seconds",
  // Transient vendor errors are thrown and retried with backoff; permanent ones come back
  // as a failed outcome the strategy reacts to.
  retry: { initialInterval: "2 seconds", backoffCoefficient: 2, maximumInterval: "5 minutes" },
} as const;
const scheduled = proxyActivities<Activities>(contactOptions);
const { finishEnrolment, settlePromise, notify, placeWithAgency } = scheduled;
// The gate and the send are one short transaction and one vendor call: as local activities
// they cost Temporal no task-queue round trip each, which was most of the server's work per
// contact. Both are safe to run again (the attempt is unique per step and channel; a send
// that may have happened asks the vendor first). Histories recorded before replay as they ran.
const local = proxyLocalActivities<Activities>(contactOptions);
const contactActivities = () => (patched("local-contact-activities") ? local : scheduled);

const { notifyAgency, closePlacement } = proxyActivities<Activities>(agencyNoticeOptions);

// Fresh history well before Temporal's limits; state carries over intact.
const MAX_HISTORY = 2_000;

/** The outcome of a journey ended because its strategy loops without ever waiting. */
const LOOP_OUTCOME = "strategy-loop";

// Longer than any journey: a wait stored before durations were bounded (billions of days)
// is held to it, since no Date or timer reaches its end.
const FOREVER_MS = 100 * 365 * 86_400_000;

/** Walks one account through its campaign's strategy, reacting to what it is told. */
export async function accountWorkflow(input: AccountWorkflowInput): Promise<string> {
  const { strategy } = input;
  const state: AccountState = input.state ?? {
    stepId: null,
    position: 0,
    waitingFor: null,
    waitingUntil: null,
    lastDecision: null,
    lastOutcome: null,
    balanceMinor: input.balanceMinor,
    paidMinor: "0",
    promise: null,
    holds: [],
    placedWith: null,
    lastReply: null,
    paused: false,
    cancelled: false,
  };
  const references = new Set(input.paymentReferences ?? []);
  const outcomes = new Map<string, AttemptOutcome>();
  let stepDeadline = input.stepDeadline ?? null;
  // A strategy that comes back to a contact step ("retry until delivered") contacts again:
  // each arrival is a visit of its own, and its attempts are reserved under that visit.
  const visits: Record<string, number> = { ...input.visits };
  const arriveAt = (position: number) => {
    const id = strategy.steps[position]?.id;
    if (id !== undefined) visits[id] = (visits[id] ?? 0) + 1;
  };
  if (!input.state) arriveAt(0);

  setHandler(accountState, () => state);
  setHandler(contactOutcome, (s) => void outcomes.set(s.attemptId, s.outcome));
  /** Counts a payment once; true when it was new. */
  const countPayment = (p: PaymentSignal) => {
    if (references.has(p.reference)) return false;
    references.add(p.reference);
    state.paidMinor = String(BigInt(state.paidMinor) + BigInt(p.amountMinor));
    return true;
  };
  setHandler(payment, (p) => {
    if (countPayment(p)) state.balanceMinor = String(BigInt(state.balanceMinor) - BigInt(p.amountMinor));
  });
  let daysPastDue = input.daysPastDue;
  // A file or API refresh changes the stored balance and DPD without telling journeys: they are
  // read again before each contact and branch, unless read since the journey last waited (with
  // its standing at the start, or for an earlier branch). The stored balance already has the
  // payments since enrolment taken off; those not yet signalled are counted here, their signals
  // then ignored. Journeys recorded before replay as they ran (false).
  let figuresFresh = false;
  const takeFigures = (figures: AccountFigures) => {
    figures.payments.forEach(countPayment);
    state.balanceMinor = figures.balanceMinor;
    daysPastDue = figures.daysPastDue;
    figuresFresh = true;
  };
  const refreshFigures = async () => {
    if (!patched("reads-account-figures")) return false;
    if (!figuresFresh) takeFigures(await local.accountFigures({ enrolmentId: input.enrolmentId }));
    return true;
  };
  setHandler(promiseToPay, (p) => void (state.promise = { ...p, paidAtPromise: state.paidMinor }));
  // Hold kinds a signal spoke of: newer than what the journey read of the account at its start.
  const signalledHolds = new Set<string>();
  setHandler(holdPlaced, ({ kind }) => {
    signalledHolds.add(kind);
    state.holds = [...new Set([...state.holds, kind])];
  });
  setHandler(holdReleased, ({ kind }) => {
    signalledHolds.add(kind);
    state.holds = state.holds.filter((h) => h !== kind);
  });
  setHandler(reply, (r) => void (state.lastReply = r));
  // Placements recalled, by id: a recall may come before the journey waits on its placement.
  const recalledPlacements = new Set<string>();
  setHandler(recalled, (r) => {
    if (r) recalledPlacements.add(r.placementId);
    else state.placedWith = null;
  });
  setHandler(pause, () => void (state.paused = true));
  setHandler(resume, () => void (state.paused = false));
  setHandler(cancel, () => void (state.cancelled = true));

  const paid = () => BigInt(state.balanceMinor) <= 0n;
  const promiseKept = () => state.promise !== null && BigInt(state.paidMinor) - BigInt(state.promise.paidAtPromise) >= BigInt(state.promise.amountMinor);
  /** Something that stops the strategy where it stands. */
  const interrupted = () => paid() || state.cancelled || state.paused || state.holds.length > 0 || state.promise !== null;

  // Steps walked since the journey last waited for time to pass or for news. A strategy
  // validated today cannot walk more than it has steps in a row (every loop passes a wait
  // step); one stored before loops were refused could go round forever, without yielding
  // when the loop is all branches, which once took the whole worker down.
  let walkedWithoutWaiting = 0;

  const waitFor = async (what: string, deadline: number | null, done: () => boolean): Promise<boolean> => {
    if (!done()) {
      walkedWithoutWaiting = 0;
      figuresFresh = false;
    }
    const until = deadline === null ? null : Math.min(deadline, Date.now() + FOREVER_MS);
    Object.assign(state, { waitingFor: what, waitingUntil: until === null ? null : new Date(until).toISOString() });
    const met = until === null ? (await condition(done), true) : await condition(done, Math.max(0, until - Date.now()));
    Object.assign(state, { waitingFor: null, waitingUntil: null });
    return met;
  };

  /** Settles whatever interrupts the strategy; returns the outcome when the journey ends. */
  const settleInterruptions = async (): Promise<string | undefined> => {
    while (interrupted()) {
      if (paid()) return "paid";
      if (state.cancelled) return "cancelled";
      if (state.promise) {
        const brokenAt = promiseBrokenAt(state.promise.dueDate, strategy.promiseGraceDays);
        const kept = await waitFor(`promise to pay by ${state.promise.dueDate}`, brokenAt, () => promiseKept() || state.cancelled);
        if (state.cancelled) return "cancelled";
        await settlePromise({ promiseId: state.promise.promiseId, status: kept ? "kept" : "broken" });
        if (kept) return "paid";
        state.promise = null;
        if (strategy.brokenPromiseStep) {
          state.position = stepIndex(strategy, strategy.brokenPromiseStep);
          arriveAt(state.position);
        }
        stepDeadline = null;
        continue;
      }
      const reason = state.holds.length > 0 ? `hold released (${state.holds.join(", ")})` : "campaign resumed";
      await waitFor(reason, null, () => state.cancelled || paid() || (!state.paused && state.holds.length === 0) || state.promise !== null);
    }
    return undefined;
  };

  /** Waits out the step's deadline unless interrupted; true when the wait is over. */
  const waitUntil = async (deadline: number, what: string) => {
    stepDeadline = deadline;
    await waitFor(what, deadline, interrupted);
    if (interrupted()) return false;
    stepDeadline = null;
    return true;
  };

  const runContact = async (step: ContactStep): Promise<"done" | "interrupted"> => {
    // Journeys continued from runs that did not count visits are on their step's first.
    const visit = Math.max(1, visits[step.id] ?? 0);
    let last = "not-allowed";
    for (const channel of [...new Set([step.channel, ...step.fallbacks])]) {
      for (;;) {
        // Before every contact, fallbacks included: a cancel, payment, pause, hold or promise
        // that came while the last channel waited for its outcome stops it here. Journeys that
        // went on to the fallback replay as they ran.
        if (interrupted() && patched("contact-rechecks-journey")) return "interrupted";
        const at = Date.now();
        const { reserveContact, sendContact } = contactActivities();
        const reservation = await reserveContact({ enrolmentId: input.enrolmentId, stepId: step.id, visit, channel, at });
        if (!reservation.allowed && "stopped" in reservation) {
          // The campaign was paused or cancelled and its signal is on its way: wait for it.
          await waitFor(reservation.stopped, Date.parse(reservation.nextAllowedAt), interrupted);
          if (interrupted()) return "interrupted";
          continue;
        }
        if (!reservation.allowed) {
          state.lastDecision = {
            channel,
            stepId: step.id,
            at: new Date(at).toISOString(),
            allowed: false,
            reasons: reservation.reasons,
            nextAllowedAt: reservation.nextAllowedAt,
          };
          // Asleep until the gate could open, then ask again: history may have changed. Past the
          // shipped holiday calendars the gate cannot know when: ask again until it can.
          const retryAt = reservation.nextAllowedAt ?? reservation.askAgainAt;
          if (retryAt === undefined) break; // never lawful on this channel: fall back
          const what = reservation.nextAllowedAt === null ? `compliance gate (${channel}): no holiday calendar yet` : `compliance gate (${channel})`;
          if (!(await waitUntil(Date.parse(retryAt), what))) return "interrupted";
          continue;
        }
        state.lastDecision = { channel, stepId: step.id, at: new Date(at).toISOString(), allowed: true, reasons: [], nextAllowedAt: null };
        const sent = await sendContact({ attemptId: reservation.attemptId, template: step.template });
        if (sent.outcome) outcomes.set(sent.attemptId, sent.outcome);
        await waitFor(
          `outcome of ${channel} attempt`,
          Date.now() + durationMs(step.waitForOutcome),
          () => outcomes.has(sent.attemptId) || paid() || state.cancelled,
        );
        last = outcomes.get(sent.attemptId) ?? "no-outcome";
        if (last === "delivered") {
          state.lastOutcome = last;
          return "done";
        }
        break; // failed or no outcome: fall back to the next channel
      }
    }
    state.lastOutcome = last;
    return "done";
  };

  /** Runs one step; returns the next position, the journey's end, or "interrupted" to run it again later. */
  const runStep = async (step: Step): Promise<number | { end: string } | "interrupted"> => {
    const next = state.position + 1;
    switch (step.kind) {
      case "contact": {
        // Settled (or refreshed to nothing owed) meanwhile: no contact.
        if ((await refreshFigures()) && interrupted()) return "interrupted";
        if ((await runContact(step)) === "interrupted") return "interrupted";
        // A gate wait interrupted inside the contact (pause, hold) left its deadline: the next
        // wait step must time its own. Journeys that waited out the stale one replay as they ran.
        if (stepDeadline !== null && patched("contact-clears-gate-deadline")) stepDeadline = null;
        return next;
      }
      case "wait": {
        const deadline = stepDeadline ?? (step.duration ? Date.now() + durationMs(step.duration) : nextLocalTime(step.until!, input.timeZone, Date.now()));
        return (await waitUntil(deadline, `wait step ${step.id}`)) ? next : "interrupted";
      }
      case "branch": {
        await refreshFigures();
        const facts = {
          paid: paid(),
          promised: state.promise !== null,
          balanceMinor: state.balanceMinor,
          daysPastDue,
          lastOutcome: state.lastOutcome,
        };
        if (conditionHolds(step.when, facts)) return stepIndex(strategy, step.then);
        return step.else ? stepIndex(strategy, step.else) : next;
      }
      case "action": {
        if (step.action === "notify") {
          try {
            await notify({ enrolmentId: input.enrolmentId, purpose: step.purpose, url: step.url, stepId: step.id });
          } catch (error) {
            // Refused for good (a 4xx, a URL the deployment does not send to): the strategy
            // goes on, as after a contact that failed. Anything else was retried until it passed.
            if (!(error instanceof ActivityFailure && error.cause instanceof ApplicationFailure)) throw error;
            log.warn("notify refused: strategy goes on", { enrolmentId: input.enrolmentId, stepId: step.id, reason: error.cause?.message });
          }
          return next;
        }
        // Histories placed before agencies were told of closures replay as they ran.
        const toldOfClosure = patched("placement-closed-notice");
        // Placed: the agency works the account until it recalls it, or the debt is settled.
        const placement = await placeWithAgency({ enrolmentId: input.enrolmentId, stepId: step.id, agency: step.agency });
        state.placedWith = placement.agency;
        // The signed notice, retried until the agency acknowledges (a recall meanwhile is kept).
        await notifyAgency({ placementId: placement.placementId });
        const held = () => toldOfClosure && state.holds.length > 0;
        const recalledNow = () => state.placedWith === null || recalledPlacements.has(placement.placementId);
        await waitFor(`recall by ${state.placedWith}`, null, () => recalledNow() || paid() || state.cancelled || held());
        if (recalledNow()) state.placedWith = null;
        if (toldOfClosure && state.placedWith !== null) {
          // The agency must stop working the account; after a hold the strategy goes on as after a recall.
          const reason = paid() ? "paid" : state.cancelled ? "cancelled" : (`hold:${state.holds[0]!}` as const);
          const closure: PlacementClosureInput = { placementId: placement.placementId, reason };
          // The notice runs on its own, so an agency that never answers holds up no journey;
          // journeys closed before that waited here for the acknowledgement, and replay so.
          if (patched("placement-closure-workflow")) await startPlacementClosure(closure);
          else await closePlacement(closure);
          state.placedWith = null;
        }
        return paid() || state.cancelled ? "interrupted" : next;
      }
      case "end":
        return { end: step.outcome };
    }
  };

  // Holds and an open promise the account had before the journey existed were never
  // signalled to it: without them it contacted disputed or deceased debtors' agencies and
  // debtors inside their promise. Journeys started before this replay as they ran.
  if (!input.state && patched("standing-at-start")) {
    const standing = await local.accountStanding({ enrolmentId: input.enrolmentId });
    if (patched("reads-account-figures")) takeFigures(standing);
    state.holds = [...new Set([...state.holds, ...standing.holds.filter((h) => !signalledHolds.has(h))])];
    if (standing.promise && !state.promise) {
      const { paidSinceMinor, ...promise } = standing.promise;
      state.promise = { ...promise, paidAtPromise: String(BigInt(state.paidMinor) - BigInt(paidSinceMinor)) };
    }
  }

  let outcome: string | undefined;
  while (outcome === undefined) {
    outcome = await settleInterruptions();
    if (outcome) break;
    if (state.position >= strategy.steps.length) {
      outcome = state.lastOutcome === "delivered" ? "contacted" : "not-contacted";
      break;
    }
    if (workflowInfo().historyLength > MAX_HISTORY || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof accountWorkflow>({ ...input, daysPastDue, state, paymentReferences: [...references], stepDeadline, visits });
    }
    const step = strategy.steps[state.position]!;
    // Only where it stops a journey: histories that walked such a loop replay as they ran.
    if (++walkedWithoutWaiting > strategy.steps.length && patched("strategy-loop-ends-journey")) {
      log.warn("the strategy loops without waiting: journey ended", { enrolmentId: input.enrolmentId, stepId: step.id });
      outcome = LOOP_OUTCOME;
      break;
    }
    state.stepId = step.id;
    const result = await runStep(step);
    if (result === "interrupted") continue;
    if (typeof result === "object") outcome = result.end;
    else {
      state.position = result;
      arriveAt(result);
    }
  }
  await finishEnrolment({ enrolmentId: input.enrolmentId, outcome, cancelled: outcome === "cancelled" });
  return outcome;
}
