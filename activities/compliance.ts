import { vendorFor, type Channel } from "../domain/channel.ts";
import { evaluateContact, type GateReason } from "../domain/compliance/index.ts";
import { gateInputFor } from "../store/gate-input.ts";
import type { ActivityDeps } from "./types.ts";

export interface ReserveInput {
  enrolmentId: string;
  stepId: string;
  channel: Channel;
  /** The workflow's clock; the gate is asked at the later of it and the worker's clock. */
  at: number;
}

export type Reservation =
  { allowed: true; attemptId: string; decisionId: string | null } | { allowed: false; reasons: GateReason[]; nextAllowedAt: string | null; decisionId: string };

export function createComplianceActivities({ db, clock }: ActivityDeps) {
  return {
    /**
     * Asks the compliance gate whether this contact is lawful now and, if it is, records the
     * attempt in the same transaction. The debtor's row is locked meanwhile, so two
     * workflows (of any campaigns) racing for the debtor's last slot in a frequency window
     * get one slot between them. The decision is recorded either way.
     */
    async reserveContact({ enrolmentId, stepId, channel, at }: ReserveInput): Promise<Reservation> {
      const enrolment = await db.enrolment.findUniqueOrThrow({ where: { id: enrolmentId }, select: { accountId: true } });
      return db.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT id FROM accounts WHERE id = ${enrolment.accountId}::uuid FOR UPDATE`;
        // A retry after the reservation committed finds its attempt.
        const existing = await tx.contactAttempt.findUnique({ where: { enrolmentId_stepId_channel: { enrolmentId, stepId, channel } }, select: { id: true } });
        if (existing) return { allowed: true as const, attemptId: existing.id, decisionId: null };

        const when = new Date(Math.max(at, clock().getTime()));
        const input = await gateInputFor(tx, enrolment.accountId, channel, when);
        if (!input) throw new Error(`account ${enrolment.accountId} of enrolment ${enrolmentId} no longer exists`);
        const decision = evaluateContact(input);
        const attempt = decision.allowed
          ? await tx.contactAttempt.create({
              data: { enrolmentId, accountId: enrolment.accountId, stepId, channel, vendor: vendorFor(channel), status: "pending" },
              select: { id: true },
            })
          : undefined;
        const recorded = await tx.complianceDecision.create({
          data: {
            accountId: enrolment.accountId,
            enrolmentId,
            stepId,
            channel,
            evaluatedAt: when,
            allowed: decision.allowed,
            reasons: decision.reasons as object[],
            nextAllowedAt: decision.nextAllowedAt ? new Date(decision.nextAllowedAt) : null,
            policy: `${decision.policy.jurisdiction}@${decision.policy.version}`,
            attemptId: attempt?.id,
          },
          select: { id: true },
        });
        return attempt
          ? { allowed: true as const, attemptId: attempt.id, decisionId: recorded.id }
          : { allowed: false as const, reasons: decision.reasons, nextAllowedAt: decision.nextAllowedAt, decisionId: recorded.id };
      });
    },
  };
}
