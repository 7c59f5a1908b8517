import { Prisma } from "../generated/prisma/client.ts";
import type { Database } from "../runtime/database.ts";
import { contactTotals } from "./reports.ts";

/**
 * Enrolment and contact counts of one campaign, as `GET /v1/campaigns/{id}/summary` reports
 * them. The contact counts are the campaign report's totals over every day, summed over
 * currencies, so the summary and the report never disagree.
 */
export interface CampaignCounts {
  /** Always running + finished. */
  enrolled: number;
  running: number;
  /** Ended journeys, cancelled ones included; `outcomes` splits them. */
  finished: number;
  /** Attempts handed to the vendor, which may have refused them (the report's `attempted`). */
  attempted: number;
  /** Attempts delivered or read (the report's `delivered`). */
  delivered: number;
  /** Attempts handed to the vendor that ended undelivered, failed or canceled (the report's `undelivered`). */
  failed: number;
  /** Finished enrolments per outcome. */
  outcomes: Record<string, number>;
}

const empty = (): CampaignCounts => ({ enrolled: 0, running: 0, finished: 0, attempted: 0, delivered: 0, failed: 0, outcomes: {} });

/**
 * Counts for several campaigns at once (three grouped queries whatever their number), so a
 * listing costs the same as one campaign's summary. Campaigns without enrolments get zeros.
 * @example (await campaignCounts(db, [id])).get(id)!.delivered
 */
export async function campaignCounts(db: Database, campaignIds: string[]): Promise<Map<string, CampaignCounts>> {
  const counts = new Map(campaignIds.map((id) => [id, empty()]));
  if (campaignIds.length === 0) return counts;
  const ids = Prisma.join(campaignIds.map((id) => Prisma.sql`${id}::uuid`));
  const [enrolments, contacts, outcomes] = await Promise.all([
    db.$queryRaw<{ campaign_id: string; enrolled: bigint; running: bigint; finished: bigint }[]>`
      SELECT campaign_id::text, count(*) AS enrolled,
             count(*) FILTER (WHERE status IN ('enrolled', 'running')) AS running,
             -- A cancelled journey (a cancel, the schedule's end) has finished too, with outcome
             -- "cancelled": without it enrolled would not be running + finished.
             count(*) FILTER (WHERE status IN ('finished', 'cancelled')) AS finished
        FROM enrolments WHERE campaign_id IN (${ids}) GROUP BY campaign_id`,
    contactTotals(db, campaignIds),
    db.enrolment.groupBy({ by: ["campaignId", "outcome"], where: { campaignId: { in: campaignIds }, outcome: { not: null } }, _count: true }),
  ]);
  for (const e of enrolments)
    Object.assign(counts.get(e.campaign_id)!, { enrolled: Number(e.enrolled), running: Number(e.running), finished: Number(e.finished) });
  for (const [id, c] of contacts) Object.assign(counts.get(id)!, { attempted: c.attempted, delivered: c.delivered, failed: c.undelivered });
  for (const o of outcomes) counts.get(o.campaignId)!.outcomes[o.outcome!] = o._count;
  return counts;
}
