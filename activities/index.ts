import { createBucketSnapshotActivities } from "./bucket-snapshot.ts";
import { createComplianceActivities } from "./compliance.ts";
import { createContactActivities } from "./contact.ts";
import { createEnrolmentActivities } from "./enrolment.ts";
import { createJourneyActivities } from "./journey.ts";
import { createPlacementActivities } from "./placement.ts";
import { createPromiseSettlementActivities } from "./promise-settlement.ts";
import type { ActivityDeps } from "./types.ts";

export type { ActivityDeps } from "./types.ts";

/**
 * Builds every activity from its dependencies; the worker registers the result and
 * workflows import only its type.
 * @example Worker.create({ activities: createActivities({ db, sql, senders, temporal, logger, clock, settings }), ... })
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createEnrolmentActivities(deps),
    ...createComplianceActivities(deps),
    ...createContactActivities(deps),
    ...createJourneyActivities(deps),
    ...createPlacementActivities(deps),
    ...createBucketSnapshotActivities(deps),
    ...createPromiseSettlementActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
