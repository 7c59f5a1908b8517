import { outcomeOf } from "../domain/attempt-status.ts";
import type { Database } from "../runtime/database.ts";
import { advanceKnownAttempt, type AdvancedAttempt } from "./attempts.ts";
import { markOptedOutAttempts } from "./inbound.ts";
import { markCallbackApplied } from "./callbacks.ts";

/**
 * A SendGrid event webhook event, as SendGrid posts it (its field names): the standard
 * fields, the event's own (`status`, `reason`, `url`, ...) and our custom args at the top
 * level (`attemptId`, `accountId`, `campaignId`).
 */
export interface SendgridEvent {
  event: string;
  sg_event_id: string;
  /** `<X-Message-Id>.<filter and recipient suffix>`; absent on account-level events. */
  sg_message_id?: string;
  /** Unix seconds. */
  timestamp: number;
  status?: unknown;
  reason?: unknown;
  attemptId?: unknown;
  accountId?: unknown;
  [field: string]: unknown;
}

/** Delivery events and the attempt status each moves to (forward only). `deferred` changes nothing. */
export const SENDGRID_DELIVERY_STATUS: Readonly<Record<string, string>> = {
  processed: "accepted",
  delivered: "delivered",
  bounce: "failed",
  dropped: "failed",
};

/** Events that opt the debtor out of email, in every campaign at once. */
export const SENDGRID_OPT_OUT_EVENTS: ReadonlySet<string> = new Set(["unsubscribe", "group_unsubscribe", "spamreport"]);

/** Events about one message: they need `sg_message_id` to find their attempt. */
export const SENDGRID_MESSAGE_EVENTS: ReadonlySet<string> = new Set([...Object.keys(SENDGRID_DELIVERY_STATUS), "deferred", "open", "click"]);

// SendGrid drops a message to an address suppressed by an earlier unsubscribe or spam report:
// that is the debtor's opt-out too.
const DROPPED_FOR_OPT_OUT = /unsubscribed address|spam reporting address/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The message id our attempt stores (the `X-Message-Id` SendGrid answered the send with):
 * `sg_message_id` up to its first ".".
 * @example messageIdOf("14c5d75ce93.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0") // "14c5d75ce93"
 */
export function messageIdOf(sgMessageId: string): string {
  return sgMessageId.split(".", 1)[0]!;
}

/**
 * Applies a stored SendGrid event: processed → accepted, delivered → delivered, bounce and
 * dropped → failed (error code: the SMTP status, else the reason), deferred → nothing,
 * open / click → the attempt's first `opened_at` / `clicked_at` (not a machine open), unsubscribe,
 * group_unsubscribe and spamreport → an email opt-out of the account. Statuses only move
 * forward. Returns the attempt when its status moved; the event stays pending (unapplied)
 * while no attempt carries its message id, and is applied by `applyPendingSendgridEvents`.
 */
export async function applySendgridEvent(db: Database, callbackId: string, event: SendgridEvent): Promise<AdvancedAttempt | undefined> {
  const messageId = event.sg_message_id ? messageIdOf(event.sg_message_id) : undefined;
  const status = SENDGRID_DELIVERY_STATUS[event.event];
  let moved: AdvancedAttempt | undefined;
  let applied: boolean;
  if (status && messageId) {
    ({ known: applied, moved } = await advanceKnownAttempt(db, "sendgrid", messageId, status, status === "failed" ? errorCodeOf(event) : undefined));
    if (applied && event.event === "dropped" && DROPPED_FOR_OPT_OUT.test(String(event.reason ?? ""))) {
      await recordEmailOptOut(db, event, messageId);
    }
  } else if (event.event === "open" && event.sg_machine_open === true) {
    // Opened by a mail client fetching every message (Apple Mail Privacy Protection and the
    // like), not by the debtor: kept raw, never counted as an open.
    applied = true;
  } else if ((event.event === "open" || event.event === "click") && messageId) {
    applied = await markEngagement(db, messageId, event.event, new Date(event.timestamp * 1000));
  } else if (SENDGRID_OPT_OUT_EVENTS.has(event.event)) {
    applied = await recordEmailOptOut(db, event, messageId);
  } else {
    // deferred (SendGrid keeps trying) and events we do not act on: stored, nothing changes.
    applied = true;
  }
  if (applied) await markCallbackApplied(db, callbackId);
  return moved;
}

/**
 * Applies the events that arrived before the attempt stored its message id; returns the
 * latest state an applied event moved the attempt to.
 */
export async function applyPendingSendgridEvents(db: Database, messageId: string): Promise<AdvancedAttempt | undefined> {
  const pending = await db.$queryRaw<{ id: string; payload: SendgridEvent }[]>`
    SELECT id, payload FROM callbacks
     WHERE vendor = 'sendgrid' AND applied_at IS NULL AND split_part(payload ->> 'sg_message_id', '.', 1) = ${messageId}
     ORDER BY received_at`;
  let latest: AdvancedAttempt | undefined;
  for (const { id, payload } of pending) latest = (await applySendgridEvent(db, id, payload)) ?? latest;
  return latest;
}

/**
 * The attempt a message id belongs to, with its account, workflow and current status.
 * @example const attempt = await attemptOf(db, messageIdOf(event.sg_message_id))
 */
export async function attemptOf(db: Database, messageId: string) {
  const attempt = await db.contactAttempt.findUnique({
    where: { vendor_vendorId: { vendor: "sendgrid", vendorId: messageId } },
    select: { id: true, accountId: true, status: true, enrolment: { select: { workflowId: true } } },
  });
  return attempt
    ? {
        attemptId: attempt.id,
        accountId: attempt.accountId,
        workflowId: attempt.enrolment.workflowId,
        status: attempt.status,
        outcome: outcomeOf(attempt.status),
      }
    : undefined;
}

/**
 * The message id of an attempt's email as SendGrid's events reported it (they carry the
 * attempt id as a custom arg), or undefined when no event about it has arrived.
 */
export async function messageIdReportedFor(db: Database, attemptId: string): Promise<string | undefined> {
  const rows = await db.$queryRaw<{ sg_message_id: string }[]>`
    SELECT payload ->> 'sg_message_id' AS sg_message_id FROM callbacks
     WHERE vendor = 'sendgrid' AND payload ->> 'attemptId' = ${attemptId} AND payload ->> 'sg_message_id' IS NOT NULL
     LIMIT 1`;
  return rows[0] ? messageIdOf(rows[0].sg_message_id) : undefined;
}

function errorCodeOf(event: SendgridEvent): string {
  const code = [event.status, event.reason, event.type].find((v) => (typeof v === "string" && v.trim() !== "") || typeof v === "number");
  return String(code ?? event.event).slice(0, 200);
}

async function markEngagement(db: Database, messageId: string, kind: "open" | "click", at: Date): Promise<boolean> {
  // The earliest instant wins, whatever order the events arrive in; a repeat changes nothing.
  const updated =
    kind === "open"
      ? await db.$executeRaw`
          UPDATE contact_attempts SET opened_at = ${at}, updated_at = now()
           WHERE vendor = 'sendgrid' AND vendor_id = ${messageId} AND (opened_at IS NULL OR opened_at > ${at})`
      : await db.$executeRaw`
          UPDATE contact_attempts SET clicked_at = ${at}, updated_at = now()
           WHERE vendor = 'sendgrid' AND vendor_id = ${messageId} AND (clicked_at IS NULL OR clicked_at > ${at})`;
  return updated > 0 || (await attemptOf(db, messageId)) !== undefined;
}

/** Opts the event's account out of email: the attempt's account, else the `accountId` custom arg. */
async function recordEmailOptOut(db: Database, event: SendgridEvent, messageId: string | undefined): Promise<boolean> {
  const fromAttempt = messageId ? (await attemptOf(db, messageId))?.accountId : undefined;
  const accountId = fromAttempt ?? (typeof event.accountId === "string" && UUID.test(event.accountId) ? event.accountId : undefined);
  if (!accountId) return false;
  // One statement: a missing account inserts nothing (the event stays pending), a repeat keeps the first opt-out.
  const inserted = await db.$executeRaw`
    INSERT INTO opt_outs (account_id, channel, source, created_at)
    SELECT id, 'email', ${`sendgrid-${event.event}`}, now() FROM accounts WHERE id = ${accountId}::uuid
    ON CONFLICT (account_id, channel) DO NOTHING`;
  if (inserted > 0) {
    // The email it answered, else the account's latest email.
    const marked = messageId
      ? await db.$executeRaw`
          UPDATE contact_attempts SET opted_out_at = now(), updated_at = now()
           WHERE vendor = 'sendgrid' AND vendor_id = ${messageId} AND account_id = ${accountId}::uuid AND opted_out_at IS NULL`
      : 0;
    if (marked === 0) await markOptedOutAttempts(db, [accountId], "email");
  }
  return inserted > 0 || (await db.account.count({ where: { id: accountId } })) > 0;
}
