import type { ActivityDeps } from "./types.ts";

export function createPromiseSettlementActivities({ sql, clock, logger }: ActivityDeps) {
  return {
    /**
     * Marks broken every open promise whose due date plus grace has passed unpaid, and kept any
     * a payment covered (see `settle_promises` in prisma/routines/promises.sql). Journeys settle
     * the promises they wait on; this settles those nobody waits on (an account with an agency,
     * in the holdout, or whose journey ended). Answers how many changed.
     */
    async settleDuePromises(): Promise<number> {
      const { rows } = await sql.query<{ settled: number }>("SELECT settle_promises(NULL, $1) AS settled", [clock()]);
      const settled = rows[0]?.settled ?? 0;
      if (settled > 0) logger.info({ settled }, "promises settled");
      return settled;
    },
  };
}
