import { outcomeOf, statusRank, type AttemptOutcome } from "../domain/attempt-status.ts";
import type { Prisma } from "../generated/prisma/client.ts";

export interface AdvancedAttempt {
  attemptId: string;
  workflowId: string;
  status: string;
  outcome: AttemptOutcome | undefined;
}

/**
 * Moves an attempt, found by the vendor's id, to `status` only if that is a later state
 * than the stored one; returns the attempt when it moved, undefined when the status was
 * stale or no attempt carries that vendor id yet. One statement, so concurrent callbacks
 * cannot move a status backwards.
 * @example await advanceAttemptStatus(db, "twilio", "SM123", "delivered")
 */
async function advanceAttemptStatus(
  db: Prisma.TransactionClient,
  vendor: string,
  vendorId: string,
  status: string,
  errorCode?: string,
): Promise<AdvancedAttempt | undefined> {
  // A read receipt proves delivery: the code of a failure reported before it no longer holds.
  const keepEarlierCode = status !== "read";
  const rows = await db.$queryRaw<{ id: string; workflow_id: string }[]>`
    UPDATE contact_attempts a
       SET status = ${status}, status_rank = ${statusRank(status)},
           error_code = CASE WHEN ${keepEarlierCode} THEN COALESCE(${errorCode ?? null}, a.error_code) ELSE ${errorCode ?? null} END, updated_at = now()
      FROM enrolments e
     WHERE a.vendor = ${vendor} AND a.vendor_id = ${vendorId} AND a.status_rank < ${statusRank(status)}
       AND e.id = a.enrolment_id
 RETURNING a.id, e.workflow_id`;
  const row = rows[0];
  return row && { attemptId: row.id, workflowId: row.workflow_id, status, outcome: outcomeOf(status) };
}

/**
 * `advanceAttemptStatus` for a stored callback: also says whether any attempt carries that
 * vendor id, i.e. whether the callback can be marked applied. When the first advance finds
 * no attempt but the lookup does, the send stored the id between the two statements, so the
 * advance runs again: marking the callback applied without it would lose the event (the
 * send's own pass over pending callbacks may already have run).
 * @example const { known, moved } = await advanceKnownAttempt(db, "twilio", "SM123", "delivered")
 */
export async function advanceKnownAttempt(
  db: Prisma.TransactionClient,
  vendor: string,
  vendorId: string,
  status: string,
  errorCode?: string,
): Promise<{ known: boolean; moved: AdvancedAttempt | undefined }> {
  const moved = await advanceAttemptStatus(db, vendor, vendorId, status, errorCode);
  if (moved) return { known: true, moved };
  const known = await db.contactAttempt.findUnique({ where: { vendor_vendorId: { vendor, vendorId } }, select: { id: true } });
  if (!known) return { known: false, moved: undefined };
  return { known: true, moved: await advanceAttemptStatus(db, vendor, vendorId, status, errorCode) };
}

/**
 * Records that the vendor took an attempt as `vendorId`: when, its status (unless a callback
 * already moved it further) and its billed units.
 * @example await recordHandedToVendor(db, attemptId, { vendorId: "SM123", status: "queued", units: 2 })
 */
export async function recordHandedToVendor(
  db: Prisma.TransactionClient,
  attemptId: string,
  sent: { vendorId: string; status: string; units?: number },
): Promise<void> {
  await db.$executeRaw`
    UPDATE contact_attempts SET vendor_id = ${sent.vendorId}, sent_at = now(), updated_at = now(), units = ${sent.units ?? null},
           status = CASE WHEN status_rank < ${statusRank("queued")} THEN ${sent.status} ELSE status END,
           status_rank = GREATEST(status_rank, ${statusRank("queued")})
     WHERE id = ${attemptId}::uuid`;
}

/**
 * Fails an attempt the vendor refused or that was never sent, keeping the code. One handed
 * to the vendor gets `sentAt`: the reports count it attempted and failed.
 */
export async function markAttemptFailed(
  db: Prisma.TransactionClient,
  attemptId: string,
  errorCode: string,
  { reachedVendor }: { reachedVendor: boolean },
): Promise<void> {
  await db.contactAttempt.update({
    where: { id: attemptId },
    data: { status: "failed", statusRank: statusRank("failed"), errorCode, ...(reachedVendor ? { sentAt: new Date() } : {}) },
  });
}
