import type { ActivityDeps } from "./types.ts";

export interface PlacementResult {
  placementId: string;
  agency: string;
}

export function createPlacementActivities({ db }: ActivityDeps) {
  return {
    /**
     * Places the account with an agency: records the placement once per (enrolment, step).
     * The signed notice to the agency is sent by `notifyAgency`, retried until acknowledged.
     */
    async placeWithAgency(input: { enrolmentId: string; stepId: string; agency: string }): Promise<PlacementResult> {
      const agency = await db.agency.findUnique({ where: { name: input.agency } });
      if (!agency) throw new Error(`no agency named ${input.agency} (enrolment ${input.enrolmentId}, step ${input.stepId})`);
      const enrolment = await db.enrolment.findUniqueOrThrow({ where: { id: input.enrolmentId }, include: { account: true } });
      const placement = await db.placement.upsert({
        where: { enrolmentId_stepId: { enrolmentId: input.enrolmentId, stepId: input.stepId } },
        create: {
          agencyId: agency.id,
          accountId: enrolment.accountId,
          enrolmentId: input.enrolmentId,
          stepId: input.stepId,
          amountMinor: enrolment.account.balanceMinor,
          currency: enrolment.account.currency,
        },
        update: {},
      });
      return { placementId: placement.id, agency: agency.name };
    },
  };
}
