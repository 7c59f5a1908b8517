import type { Database } from "../runtime/database.ts";
import { applyOwing } from "./message-status-intake.ts";
import { applyTwilioMessageStatus, type TwilioMessageStatus } from "./twilio-status.ts";
import { applyTwilioCallStatus, type TwilioCallStatus } from "./voice.ts";

/** Younger pending callbacks (and owed signals) are still in the hands of the request or send that stored them: every sweep leaves them alone. */
export const STRANDED_AFTER_MS = 30_000;
const BATCH = 500;

/**
 * Applies Twilio status callbacks left pending although their attempt knows the vendor id:
 * the process stopped between storing the event and applying it, after the send had looked
 * for pending events. Twilio does not redeliver status callbacks, so without this the
 * attempt would never move and its workflow would wait out its timeout. The signals their
 * moves owe are recorded for the outcome-signal sweeper. Returns how many were applied.
 */
export async function applyStrandedTwilioStatuses(db: Database): Promise<number> {
  // Walks the partial indexes of pending status callbacks, which hold only pending rows.
  const stranded = await db.$queryRaw<{ id: string; kind: string; payload: Record<string, string> }[]>`
    SELECT c.id, c.kind, c.payload FROM callbacks c
     WHERE c.vendor = 'twilio' AND c.applied_at IS NULL AND c.received_at < now() - make_interval(secs => ${STRANDED_AFTER_MS / 1000})
       AND ((c.kind = 'message-status' AND EXISTS (SELECT FROM contact_attempts a WHERE a.vendor = 'twilio' AND a.vendor_id = c.payload ->> 'MessageSid'))
         OR (c.kind = 'call-status' AND EXISTS (SELECT FROM contact_attempts a WHERE a.vendor = 'twilio' AND a.vendor_id = c.payload ->> 'CallSid')))
     ORDER BY c.received_at
     LIMIT ${BATCH}`;
  for (const { id, kind, payload } of stranded) {
    await applyOwing(db, id, (tx) =>
      kind === "message-status"
        ? applyTwilioMessageStatus(tx, id, payload as unknown as TwilioMessageStatus)
        : applyTwilioCallStatus(tx, id, payload as unknown as TwilioCallStatus),
    );
  }
  return stranded.length;
}
