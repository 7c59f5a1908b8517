// What the outside world can tell an account workflow, and ask it.
import { defineQuery, defineSignal } from "@temporalio/workflow";
import type { AttemptOutcome } from "../domain/attempt-status.ts";
import type { Channel } from "../domain/channel.ts";
import type { GateReason, Hold } from "../domain/compliance/index.ts";

export interface ContactOutcomeSignal {
  attemptId: string;
  status: string;
  outcome: AttemptOutcome;
}
export interface PaymentSignal {
  /** The payment's unique reference: a payment reported twice counts once. */
  reference: string;
  amountMinor: string;
}
export interface PromiseSignal {
  promiseId: string;
  amountMinor: string;
  /** Local calendar date, YYYY-MM-DD. */
  dueDate: string;
}

export interface ReplySignal {
  channel: Channel;
  text: string;
  at: string;
}

export interface GateSnapshot {
  channel: Channel;
  stepId: string;
  at: string;
  allowed: boolean;
  reasons: GateReason[];
  nextAllowedAt: string | null;
}

/** The account's journey as ops see it: where it is, what it waits for, the last gate answer. */
export interface AccountState {
  stepId: string | null;
  position: number;
  waitingFor: string | null;
  waitingUntil: string | null;
  lastDecision: GateSnapshot | null;
  lastOutcome: string | null;
  balanceMinor: string;
  paidMinor: string;
  promise: (PromiseSignal & { paidAtPromise: string }) | null;
  holds: Hold[];
  /** The agency holding the account, while placed. */
  placedWith: string | null;
  lastReply: ReplySignal | null;
  paused: boolean;
  cancelled: boolean;
}

export interface RecallSignal {
  placementId: string;
}

export const contactOutcome = defineSignal<[ContactOutcomeSignal]>("contactOutcome");
export const payment = defineSignal<[PaymentSignal]>("payment");
export const promiseToPay = defineSignal<[PromiseSignal]>("promiseToPay");
export const holdPlaced = defineSignal<[{ kind: Hold }]>("holdPlaced");
export const holdReleased = defineSignal<[{ kind: Hold }]>("holdReleased");
export const reply = defineSignal<[ReplySignal]>("reply");
/**
 * The agency handed the account back: the strategy goes on after the placement step. It names
 * the placement, so a late or repeated recall of an earlier one releases nothing; senders
 * before it named none, and released whatever placement the journey waited on.
 */
export const recalled = defineSignal<[RecallSignal?]>("recalled");
export const pause = defineSignal("pause");
export const resume = defineSignal("resume");
export const cancel = defineSignal("cancel");
export const accountState = defineQuery<AccountState>("accountState");
