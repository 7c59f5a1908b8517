import type { Prisma } from "../generated/prisma/client.ts";
import type { Database } from "../runtime/database.ts";
import { advanceKnownAttempt, type AdvancedAttempt } from "./attempts.ts";
import { markCallbackApplied } from "./callbacks.ts";

/** Twilio call status callback fields we act on (form-encoded, Twilio's names). */
export interface TwilioCallStatus {
  CallSid: string;
  CallStatus: string;
  /** Set when answering-machine detection ran: human, machine_start, machine_end_beep, fax, unknown… */
  AnsweredBy?: string;
  /** Seconds, on the final status. */
  CallDuration?: string;
}

/** The attempt status a Twilio call status stands for, with an error code for failures. */
export interface CallAttemptStatus {
  status: string;
  errorCode?: string;
}

/**
 * The longest call Twilio reports: it ends every call at its time limit, four hours unless
 * set and never more than a day (which `units`, an int of minutes, holds with room to spare).
 */
export const MAX_CALL_SECONDS = 86_400;

/**
 * A call's duration as Twilio reports it, in whole seconds; undefined when it is not one
 * Twilio could send.
 * @example callSeconds("61") // 61
 * @example callSeconds("1e12") // undefined
 */
export function callSeconds(duration: string | undefined): number | undefined {
  if (duration === undefined || !/^\d{1,5}$/.test(duration)) return undefined;
  const seconds = Number(duration);
  return seconds <= MAX_CALL_SECONDS ? seconds : undefined;
}

/** @example isMachine("machine_end_beep") // true */
export function isMachine(answeredBy: string | undefined): boolean {
  return answeredBy !== undefined && (answeredBy.startsWith("machine") || answeredBy === "fax");
}

/**
 * Maps a Twilio call status onto the attempt lifecycle of domain/attempt-status.ts, so calls
 * rank like messages: dialling is `sending`, ringing or talking is `sent`, a call a person
 * answered is `delivered`, and one that reached no person is `undelivered` (a machine: only
 * a limited-content voicemail was left) or `failed` (busy, no answer, failed). Undefined for
 * a status we do not know.
 * @example attemptStatusOfCall("completed", "human") // { status: "delivered" }
 * @example attemptStatusOfCall("busy") // { status: "failed", errorCode: "busy" }
 */
export function attemptStatusOfCall(callStatus: string, answeredBy?: string): CallAttemptStatus | undefined {
  switch (callStatus) {
    case "queued":
      return { status: "queued" };
    case "initiated":
      return { status: "sending" };
    case "ringing":
    case "in-progress":
      return { status: "sent" };
    case "completed":
      return isMachine(answeredBy) ? { status: "undelivered", errorCode: "answering-machine" } : { status: "delivered" };
    case "busy":
    case "no-answer":
    case "failed":
      return { status: "failed", errorCode: callStatus };
    case "canceled":
      return { status: "canceled", errorCode: "canceled" };
    default:
      return undefined;
  }
}

/**
 * Applies a stored Twilio call status callback to its attempt. Returns the attempt when its
 * status moved forward; undefined when stale, unknown, or the attempt does not know this
 * call SID yet (the callback stays pending and is applied when it does). A final status
 * without AnsweredBy takes the one the first TwiML request carried. The call's minutes are
 * billed only while the attempt stands at the status this completion gave it.
 */
export async function applyTwilioCallStatus(db: Prisma.TransactionClient, callbackId: string, event: TwilioCallStatus): Promise<AdvancedAttempt | undefined> {
  const answeredBy = event.AnsweredBy || (event.CallStatus === "completed" ? await answeredByOf(db, event.CallSid) : undefined);
  const mapped = attemptStatusOfCall(event.CallStatus, answeredBy);
  if (!mapped) {
    await markCallbackApplied(db, callbackId);
    return undefined;
  }
  const { known, moved } = await advanceKnownAttempt(db, "twilio", event.CallSid, mapped.status, mapped.errorCode);
  // A payload stored before the request schema bounded it may hold a duration Twilio could not send: it bills nothing.
  const seconds = callSeconds(event.CallDuration);
  if (known && event.CallStatus === "completed" && seconds !== undefined) {
    // Billed by the started minute. A late completion of a call already failed or canceled
    // did not move it, and must not bill it; a redelivery after a crash between the two
    // statements still finds the status it set.
    await db.$executeRaw`
      UPDATE contact_attempts SET units = ${Math.ceil(seconds / 60)}
       WHERE vendor = 'twilio' AND vendor_id = ${event.CallSid} AND status = ${mapped.status}`;
  }
  if (known) await markCallbackApplied(db, callbackId);
  return moved;
}

/** Applies the call status callbacks that arrived before the attempt stored its call SID. */
export async function applyPendingCallStatuses(db: Database, callSid: string): Promise<AdvancedAttempt | undefined> {
  const pending = await db.$queryRaw<{ id: string; payload: Record<string, string> }[]>`
    SELECT id, payload FROM callbacks
     WHERE vendor = 'twilio' AND kind = 'call-status' AND applied_at IS NULL AND payload ->> 'CallSid' = ${callSid}
     ORDER BY received_at`;
  let latest: AdvancedAttempt | undefined;
  for (const callback of pending) {
    latest = (await applyTwilioCallStatus(db, callback.id, callback.payload as unknown as TwilioCallStatus)) ?? latest;
  }
  return latest;
}

/** What answering-machine detection said when Twilio first asked for the call's TwiML. */
async function answeredByOf(db: Prisma.TransactionClient, callSid: string): Promise<string | undefined> {
  const rows = await db.$queryRaw<{ answered_by: string | null }[]>`
    SELECT payload ->> 'AnsweredBy' AS answered_by FROM callbacks WHERE vendor = 'twilio' AND event_id = ${`${callSid}:voice-url`}`;
  return rows[0]?.answered_by ?? undefined;
}

/**
 * The debtor engaged (pressed a key, asked for an agent): the attempt becomes a conversation
 * for the gate's cool-off, and an engagement for MIS. The first moment counts.
 */
export async function markConversation(db: Database, attemptId: string, at: Date): Promise<void> {
  await db.$executeRaw`
    UPDATE contact_attempts SET conversation_at = COALESCE(conversation_at, ${at}), replied_at = COALESCE(replied_at, ${at}), updated_at = now()
     WHERE id = ${attemptId}::uuid`;
}

/**
 * Records the promise a debtor keyed in during a call, once per call: the stored callback
 * `callbackId` is claimed in the same transaction, so a repeated request records nothing.
 * Returns the promise, or undefined when this call's promise was recorded before.
 */
export async function recordCallPromise(
  db: Database,
  callbackId: string,
  promise: { accountId: string; enrolmentId: string; attemptId: string; amountMinor: bigint; currency: string; dueDate: string },
): Promise<{ id: string } | undefined> {
  return db.$transaction(async (tx) => {
    const claimed = await tx.$executeRaw`UPDATE callbacks SET applied_at = now() WHERE id = ${callbackId}::uuid AND applied_at IS NULL`;
    if (claimed === 0) return undefined;
    return tx.paymentPromise.create({
      data: { ...promise, dueDate: new Date(`${promise.dueDate}T00:00:00Z`), source: "ivr" },
      select: { id: true },
    });
  });
}

/**
 * The step id of the payment-link text a call's keypad asked for: the call's step with a
 * suffix no strategy step id can carry (they hold only letters, digits, - and _).
 * @example paymentLinkStepId("call") // "call:pay-link"
 */
export const paymentLinkStepId = (callStepId: string) => `${callStepId}${PAYMENT_LINK_SUFFIX}`;
/** Spelt out in `PaymentLinks.finishStranded`'s query and its partial index (migration `pay_link_dispatching`). */
export const PAYMENT_LINK_SUFFIX = ":pay-link";

/**
 * The SMS attempt of the payment-link text a debtor asked for during a call: one per call,
 * of the call's journey, step (`paymentLinkStepId`) and visit. The first request for it
 * creates it `dispatching` and is the one to send it (`claimed`); a repeated keypress
 * (Twilio redelivering the request, or a second one meanwhile) finds it and sends nothing.
 * @example const { id, claimed } = await claimPaymentLinkAttempt(db, { enrolmentId, accountId, stepId: "call", visit: 1 })
 */
export async function claimPaymentLinkAttempt(
  db: Database,
  call: { enrolmentId: string; accountId: string; stepId: string; visit: number },
): Promise<{ id: string; status: string; claimed: boolean }> {
  const stepId = paymentLinkStepId(call.stepId);
  const created = await db.$queryRaw<{ id: string; status: string }[]>`
    INSERT INTO contact_attempts (id, enrolment_id, account_id, step_id, visit, channel, vendor, status, updated_at)
    VALUES (gen_random_uuid(), ${call.enrolmentId}::uuid, ${call.accountId}::uuid, ${stepId}, ${call.visit}, 'sms', 'twilio', 'dispatching', now())
    ON CONFLICT (enrolment_id, step_id, channel, visit) DO NOTHING
    RETURNING id::text, status`;
  if (created[0]) return { ...created[0], claimed: true };
  const found = await db.contactAttempt.findUniqueOrThrow({
    where: { enrolmentId_stepId_channel_visit: { enrolmentId: call.enrolmentId, stepId, channel: "sms", visit: call.visit } },
    select: { id: true, status: true },
  });
  return { ...found, claimed: false };
}
