import type { Database } from "../../runtime/database.ts";
import type { Period } from "../period.ts";

/** One agency's placements of one currency made in the period, and what was paid while placed. */
export interface AgencyRow {
  agency: string;
  currency: string;
  placements: number;
  placedMinor: bigint;
  /** Paid while placed (placed at or before the payment, recalled after it or not at all). */
  collectedMinor: bigint;
  accountsPaying: number;
  /** Collected ÷ placed amount. */
  liquidationRate: number | null;
  /** Placements with any payment ÷ placements. */
  placementSuccess: number | null;
}

/**
 * Agency performance for placements made in the period (UTC days), per agency and currency.
 * @example await loadAgencyPerformance(db, { from: "2026-10-01", to: "2026-12-31" })
 */
export async function loadAgencyPerformance(db: Database, period: Period): Promise<AgencyRow[]> {
  const rows = await db.$queryRaw<{ agency: string; currency: string; placements: bigint; placed: string; collected: string; paying: bigint }[]>`
    WITH placed AS (
      SELECT p.id, g.name AS agency, p.currency, p.amount_minor,
             (SELECT COALESCE(sum(y.amount_minor), 0) FROM payments y
               WHERE y.account_id = p.account_id AND y.paid_at >= p.placed_at AND (p.recalled_at IS NULL OR y.paid_at < p.recalled_at)) AS collected
        FROM placements p JOIN agencies g ON g.id = p.agency_id
       WHERE (p.placed_at AT TIME ZONE 'UTC')::date BETWEEN ${period.from}::date AND ${period.to}::date)
    SELECT agency, currency, count(*) AS placements, sum(amount_minor)::text AS placed, sum(collected)::text AS collected,
           count(*) FILTER (WHERE collected > 0) AS paying
      FROM placed GROUP BY agency, currency ORDER BY agency, currency`;
  return rows.map((r) => {
    const placements = Number(r.placements);
    const placedMinor = BigInt(r.placed);
    const collectedMinor = BigInt(r.collected);
    return {
      agency: r.agency,
      currency: r.currency,
      placements,
      placedMinor,
      collectedMinor,
      accountsPaying: Number(r.paying),
      liquidationRate: placedMinor > 0n ? Number(collectedMinor) / Number(placedMinor) : null,
      placementSuccess: placements > 0 ? Number(r.paying) / placements : null,
    };
  });
}
