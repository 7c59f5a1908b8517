import { isKnownStatus } from "../domain/attempt-status.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import type { Database } from "../runtime/database.ts";
import { advanceKnownAttempt, type AdvancedAttempt } from "./attempts.ts";
import { markCallbackApplied } from "./callbacks.ts";

/** Twilio message status callback fields we act on (form-encoded, Twilio's names). */
export interface TwilioMessageStatus {
  MessageSid: string;
  MessageStatus: string;
  ErrorCode?: string;
}

/**
 * Applies a stored Twilio message status callback to its attempt. Returns the attempt when
 * its status moved forward; undefined when stale, unknown, or the attempt does not know
 * this message SID yet (the callback stays pending and is applied when it does).
 */
export async function applyTwilioMessageStatus(
  db: Prisma.TransactionClient,
  callbackId: string,
  event: TwilioMessageStatus,
): Promise<AdvancedAttempt | undefined> {
  if (!isKnownStatus(event.MessageStatus)) {
    await markCallbackApplied(db, callbackId);
    return undefined;
  }
  const { known, moved } = await advanceKnownAttempt(db, "twilio", event.MessageSid, event.MessageStatus, event.ErrorCode || undefined);
  if (known) await markCallbackApplied(db, callbackId);
  return moved;
}

/**
 * Applies the callbacks that arrived before the attempt stored its message SID; returns
 * the latest state an applied callback moved the attempt to.
 */
export async function applyPendingTwilioStatuses(db: Database, messageSid: string): Promise<AdvancedAttempt | undefined> {
  // Found by callbacks_pending_twilio_messages_idx, which holds only pending status callbacks.
  const pending = await db.$queryRaw<{ id: string; payload: TwilioMessageStatus }[]>`
    SELECT id, payload FROM callbacks
     WHERE vendor = 'twilio' AND kind = 'message-status' AND applied_at IS NULL AND payload ->> 'MessageSid' = ${messageSid}
     ORDER BY received_at`;
  let latest: AdvancedAttempt | undefined;
  for (const { id, payload } of pending) latest = (await applyTwilioMessageStatus(db, id, payload)) ?? latest;
  return latest;
}
