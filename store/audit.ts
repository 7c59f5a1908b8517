import type { Prisma } from "../generated/prisma/client.ts";

/** The actor of what a debtor did through an inbound message (the detail names the message, never the number). */
export const DEBTOR_ACTOR = "debtor";

/** What the audit log records: who (an API key id, "system", or `DEBTOR_ACTOR`), did what, to what. */
export interface AuditEvent {
  actor: string;
  /** `<target type>.<verb>`, e.g. "campaign.launch", "api-key.revoke". */
  action: string;
  target: { type: string; id?: string | null };
  detail?: Prisma.InputJsonObject;
}

/**
 * Appends to the audit log. Pass the transaction that makes the change, so the entry and the
 * change commit together.
 * @example await db.$transaction(async (tx) => { await tx.campaign.update(…); await recordAudit(tx, { actor: keyId, action: "campaign.pause", target: { type: "campaign", id } }); });
 */
export async function recordAudit(db: Prisma.TransactionClient, event: AuditEvent): Promise<void> {
  await db.auditEntry.create({
    data: { actor: event.actor, action: event.action, targetType: event.target.type, targetId: event.target.id ?? null, detail: event.detail ?? {} },
  });
}
