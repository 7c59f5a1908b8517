import { decodeCursor, page } from "../../api/pagination.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import type { Database } from "../../runtime/database.ts";
import { campaignCounts, type CampaignCounts } from "../../store/campaign-progress.ts";
import { amountsBy, type Amount } from "./money.ts";

export interface CampaignListing {
  id: string;
  name: string;
  status: string;
  launchedAt: Date | null;
  counts: CampaignCounts;
  /** Every payment by an enrolled account since its enrolment, per currency. */
  collected: Amount[];
}

/**
 * The campaigns overview, newest first, a page at a time: each campaign's progress (the
 * summary API's counts, its attempted and delivered the report's totals) and what its
 * accounts paid since enrolment.
 * @example const { items, nextCursor } = await loadCampaignsOverview(db, { limit: 50 });
 */
export async function loadCampaignsOverview(db: Database, query: { limit: number; cursor?: string }) {
  const after = decodeCursor(query.cursor, ["timestamp", "uuid"]);
  const rows = await db.campaign.findMany({
    where: after ? { OR: [{ createdAt: { lt: after[0] } }, { createdAt: after[0], id: { lt: after[1] } }] } : {},
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: query.limit + 1,
  });
  const ids = rows.map((r) => r.id);
  const [counts, collected] = await Promise.all([campaignCounts(db, ids), collectedSinceEnrolment(db, ids)]);
  return page(
    rows,
    query.limit,
    (r) => [r.createdAt.toISOString(), r.id],
    (r): CampaignListing => ({
      id: r.id,
      name: r.name,
      status: r.status,
      launchedAt: r.launchedAt,
      counts: counts.get(r.id)!,
      collected: collected.get(r.id) ?? [],
    }),
  );
}

async function collectedSinceEnrolment(db: Database, campaignIds: string[]): Promise<Map<string, Amount[]>> {
  if (campaignIds.length === 0) return new Map();
  const rows = await db.$queryRaw<{ key: string; currency: string; minor: string }[]>`
    SELECT e.campaign_id::text AS key, y.currency, sum(y.amount_minor)::text AS minor
      FROM enrolments e JOIN payments y ON y.account_id = e.account_id AND y.paid_at >= e.enrolled_at
     WHERE e.campaign_id IN (${Prisma.join(campaignIds.map((id) => Prisma.sql`${id}::uuid`))})
     GROUP BY e.campaign_id, y.currency`;
  return amountsBy(rows);
}
