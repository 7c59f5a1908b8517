import type { Prisma } from "../generated/prisma/client.ts";
import type { Database } from "../runtime/database.ts";

export interface StoredCallback {
  id: string;
  /** True when this delivery is a repeat of an event already applied. */
  alreadyApplied: boolean;
  /** The event as first stored: this delivery's own, unless it repeats an earlier one. */
  payload: Prisma.JsonValue;
}

/**
 * Stores a vendor event raw, once: a redelivery (same vendor and event id) returns the
 * stored row instead of a second one.
 * @example await storeCallback(db, { vendor: "twilio", eventId: "SM1:delivered", kind: "message-status", payload })
 */
export async function storeCallback(
  db: Database,
  event: { vendor: string; eventId: string; kind: string; payload: Prisma.InputJsonValue },
): Promise<StoredCallback> {
  const rows = await db.$queryRaw<{ id: string; applied_at: Date | null; payload: Prisma.JsonValue }[]>`
    WITH inserted AS (
      INSERT INTO callbacks (id, vendor, event_id, kind, payload)
      VALUES (gen_random_uuid(), ${event.vendor}, ${event.eventId}, ${event.kind}, ${JSON.stringify(event.payload)}::jsonb)
      ON CONFLICT (vendor, event_id) DO NOTHING
      RETURNING id, applied_at, payload)
    SELECT id, applied_at, payload FROM inserted
    UNION ALL
    SELECT id, applied_at, payload FROM callbacks WHERE vendor = ${event.vendor} AND event_id = ${event.eventId}
    LIMIT 1`;
  // A concurrent copy of the same event may commit between our insert (which then does
  // nothing) and the select, whose snapshot predates it: read it again.
  let row = rows[0];
  if (!row) {
    const stored = await db.callback.findUniqueOrThrow({ where: { vendor_eventId: { vendor: event.vendor, eventId: event.eventId } } });
    row = { id: stored.id, applied_at: stored.appliedAt, payload: stored.payload };
  }
  return { id: row.id, alreadyApplied: row.applied_at !== null, payload: row.payload };
}

/** @example await markCallbackApplied(db, stored.id) */
export async function markCallbackApplied(db: Prisma.TransactionClient, id: string): Promise<void> {
  await db.callback.update({ where: { id }, data: { appliedAt: new Date() } });
}
