import type { CampaignStrategy } from "../../domain/strategy.ts";
import type { Database } from "../../runtime/database.ts";
import { championOf, variantReport } from "../../store/portfolio-reports.ts";
import { campaignReport, type ReportDimension, type ReportRow, type ReportSources } from "../../store/reports.ts";
import type { Period } from "../period.ts";

/** A variant's report row (one currency's) and its part in the test. */
export interface VariantRow extends ReportRow {
  role: "champion" | "challenger" | "holdout";
}

/** One side of a two-proportion test. */
export interface ProportionArm {
  successes: number;
  n: number;
  rate: number | null;
}

/** A challenger (or a contacted variant against the holdout) compared on one rate. */
export interface VariantSignificance {
  variant: string;
  against: string;
  measure: string;
  comparison: {
    a: ProportionArm;
    b: ProportionArm;
    difference: number | null;
    interval: { low: number; high: number } | null;
    pValue: number | null;
    tooSmall: boolean;
  };
}

export interface CampaignPage {
  campaign: { id: string; name: string; status: string; launchedAt: Date | null; createdAt: Date };
  period: Period;
  /** The report's totals for the period, one row per currency. */
  totals: ReportRow[];
  /** `by: ["day"]`: days with anything recorded. */
  days: ReportRow[];
  /** `by: ["channel"]` without the account-level row (no channel), which the totals hold. */
  channels: ReportRow[];
  /** `by: ["variant"]`, in the strategy's order. */
  variants: VariantRow[];
  significance: VariantSignificance[];
}

/**
 * Everything the campaign page shows for a period: the campaign report
 * (`GET /v1/campaigns/{id}/report`) by day, channel and variant with its totals, and the
 * variant report's significance tests.
 * @example await loadCampaignPage({ db, bulk }, campaign, { from: "2026-12-01", to: "2026-12-31", timeZone: "Asia/Jakarta" })
 */
export async function loadCampaignPage(
  sources: ReportSources,
  campaign: CampaignPage["campaign"] & { strategy: CampaignStrategy },
  period: Period,
): Promise<CampaignPage> {
  const report = (by: ReportDimension[]) => campaignReport(sources, { campaignId: campaign.id, by, from: period.from, to: period.to });
  const [days, channels, variants, significance] = await Promise.all([
    report(["day"]),
    report(["channel"]),
    report(["variant"]),
    significanceOf(sources.db, campaign.id, campaign.strategy),
  ]);
  const declared = campaign.strategy.variants;
  const champion = championOf(campaign.strategy).name;
  const roleOf = (name: string): VariantRow["role"] =>
    declared.some((v) => v.name === name && "holdout" in v) ? "holdout" : name === champion ? "champion" : "challenger";
  const order = (name: string | null | undefined) => declared.findIndex((v) => v.name === name);
  const { id, name, status, launchedAt, createdAt } = campaign;
  return {
    campaign: { id, name, status, launchedAt, createdAt },
    period,
    totals: days.totals,
    days: days.rows,
    channels: channels.rows.filter((r) => r.channel !== null),
    // A stable sort: each variant's currencies stay in the report's order.
    variants: variants.rows.map((r) => ({ ...r, role: roleOf(r.variant!) })).sort((x, y) => order(x.variant) - order(y.variant)),
    significance,
  };
}

const MEASURES = ["conversion", "payerRate", "keptRate"] as const;

/**
 * The two-proportion tests of `GET /v1/campaigns/{id}/report/variants` (challengers against
 * the champion, contacted variants against the holdout), one row per rate.
 */
async function significanceOf(db: Database, campaignId: string, strategy: CampaignStrategy): Promise<VariantSignificance[]> {
  if (strategy.variants.length < 2) return [];
  const report = await variantReport(db, campaignId, strategy);
  return [...report.challengers, ...report.incrementality].flatMap((r) =>
    MEASURES.map((measure) => ({ variant: r.currency ? `${r.variant} (${r.currency})` : r.variant, against: r.against, measure, comparison: r[measure] })),
  );
}
