import type { CampaignStrategy } from "../../domain/strategy.ts";
import type { Database } from "../../runtime/database.ts";
import { variantReport } from "../../store/portfolio-reports.ts";
import { daysOf, type Period } from "../period.ts";
import { amountsBy, type Amount } from "./money.ts";

/** Contact counts of a cell: attempts, and what the vendors reported of them. */
export interface ContactCounts {
  /** Attempts handed to a vendor. */
  attempted: number;
  /** Attempts delivered (or read). */
  delivered: number;
  opened: number;
  clicked: number;
  replied: number;
}

/** The contact funnel: attempt counts, then promises captured and accounts that paid. */
export interface Funnel extends ContactCounts {
  promises: number;
  /** Enrolled accounts with a payment in the period (since their enrolment). */
  payers: number;
  collected: Amount[];
}

export interface DayRow extends ContactCounts {
  day: string;
  promises: number;
  payments: number;
}

export interface ChannelRow extends ContactCounts {
  channel: string;
}

export interface VariantArm {
  variant: string;
  /** The champion is the variant named so (else the first that contacts); a holdout is never contacted. */
  role: "champion" | "challenger" | "holdout";
  enrolled: number;
  /** Accounts with at least one attempt handed to a vendor. */
  touched: number;
  attempted: number;
  delivered: number;
  payers: number;
  collected: Amount[];
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
  funnel: Funnel;
  days: DayRow[];
  channels: ChannelRow[];
  variants: VariantArm[];
  significance: VariantSignificance[];
}

const ZERO: ContactCounts = { attempted: 0, delivered: 0, opened: 0, clicked: 0, replied: 0 };
const add = (a: ContactCounts, b: ContactCounts): ContactCounts => ({
  attempted: a.attempted + b.attempted,
  delivered: a.delivered + b.delivered,
  opened: a.opened + b.opened,
  clicked: a.clicked + b.clicked,
  replied: a.replied + b.replied,
});

/**
 * Everything the campaign page shows for a period (UTC days, inclusive): the funnel, a
 * daily trend, channels and variants, from the raw attempts, promises and payments. Counts
 * are defined as in the campaign summary (delivered: status delivered or read).
 * @example await loadCampaignPage(db, campaign, { from: "2026-12-01", to: "2026-12-31" })
 */
export async function loadCampaignPage(db: Database, campaign: CampaignPage["campaign"] & { strategy: unknown }, period: Period): Promise<CampaignPage> {
  const id = campaign.id;
  const [contacts, promises, payments, collected, arms] = await Promise.all([
    db.$queryRaw<{ channel: string; day: string; attempted: bigint; delivered: bigint; opened: bigint; clicked: bigint; replied: bigint }[]>`
      SELECT a.channel, (a.created_at AT TIME ZONE 'UTC')::date::text AS day,
             count(*) FILTER (WHERE a.vendor_id IS NOT NULL) AS attempted,
             count(*) FILTER (WHERE a.status IN ('delivered', 'read')) AS delivered,
             count(a.opened_at) AS opened, count(a.clicked_at) AS clicked, count(a.replied_at) AS replied
        FROM contact_attempts a JOIN enrolments e ON e.id = a.enrolment_id
       WHERE e.campaign_id = ${id}::uuid AND (a.created_at AT TIME ZONE 'UTC')::date BETWEEN ${period.from}::date AND ${period.to}::date
       GROUP BY 1, 2`,
    db.$queryRaw<{ day: string; promises: bigint }[]>`
      SELECT (p.created_at AT TIME ZONE 'UTC')::date::text AS day, count(*) AS promises
        FROM promises p JOIN enrolments e ON e.id = p.enrolment_id
       WHERE e.campaign_id = ${id}::uuid AND (p.created_at AT TIME ZONE 'UTC')::date BETWEEN ${period.from}::date AND ${period.to}::date
       GROUP BY 1`,
    db.$queryRaw<{ day: string; payments: bigint }[]>`
      SELECT (y.paid_at AT TIME ZONE 'UTC')::date::text AS day, count(*) AS payments
        FROM enrolments e JOIN payments y ON y.account_id = e.account_id AND y.paid_at >= e.enrolled_at
       WHERE e.campaign_id = ${id}::uuid AND (y.paid_at AT TIME ZONE 'UTC')::date BETWEEN ${period.from}::date AND ${period.to}::date
       GROUP BY 1`,
    db.$queryRaw<{ key: string; currency: string; minor: string }[]>`
      SELECT e.variant AS key, y.currency, sum(y.amount_minor)::text AS minor
        FROM enrolments e JOIN payments y ON y.account_id = e.account_id AND y.paid_at >= e.enrolled_at
       WHERE e.campaign_id = ${id}::uuid AND (y.paid_at AT TIME ZONE 'UTC')::date BETWEEN ${period.from}::date AND ${period.to}::date
       GROUP BY 1, 2`,
    db.$queryRaw<{ variant: string; enrolled: bigint; touched: bigint; attempted: bigint; delivered: bigint; payers: bigint }[]>`
      SELECT e.variant, count(*) AS enrolled, count(*) FILTER (WHERE c.attempted > 0) AS touched,
             COALESCE(sum(c.attempted), 0)::bigint AS attempted, COALESCE(sum(c.delivered), 0)::bigint AS delivered,
             count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM payments y WHERE y.account_id = e.account_id AND y.paid_at >= e.enrolled_at
                  AND (y.paid_at AT TIME ZONE 'UTC')::date BETWEEN ${period.from}::date AND ${period.to}::date)) AS payers
        FROM enrolments e
        LEFT JOIN LATERAL (
          SELECT count(*) FILTER (WHERE a.vendor_id IS NOT NULL) AS attempted,
                 count(*) FILTER (WHERE a.status IN ('delivered', 'read')) AS delivered
            FROM contact_attempts a
           WHERE a.enrolment_id = e.id AND (a.created_at AT TIME ZONE 'UTC')::date BETWEEN ${period.from}::date AND ${period.to}::date) c ON true
       WHERE e.campaign_id = ${id}::uuid
       GROUP BY e.variant`,
  ]);

  const counts = (r: (typeof contacts)[number]): ContactCounts => ({
    attempted: Number(r.attempted),
    delivered: Number(r.delivered),
    opened: Number(r.opened),
    clicked: Number(r.clicked),
    replied: Number(r.replied),
  });
  const byDay = new Map<string, ContactCounts>();
  const byChannel = new Map<string, ContactCounts>();
  for (const r of contacts) {
    byDay.set(r.day, add(byDay.get(r.day) ?? ZERO, counts(r)));
    byChannel.set(r.channel, add(byChannel.get(r.channel) ?? ZERO, counts(r)));
  }
  const promisesByDay = new Map(promises.map((p) => [p.day, Number(p.promises)]));
  const paymentsByDay = new Map(payments.map((p) => [p.day, Number(p.payments)]));
  const collectedByVariant = amountsBy(collected);

  // Variants in the strategy's order; the holdout is the one marked so.
  const declared = ((campaign.strategy as { variants?: { name: string; holdout?: boolean }[] }).variants ?? []).map((v) => ({
    name: v.name,
    holdout: v.holdout === true,
  }));
  const champion = declared.find((v) => v.name === "champion" && !v.holdout) ?? declared.find((v) => !v.holdout);
  const roleOf = (name: string): VariantArm["role"] =>
    declared.some((v) => v.name === name && v.holdout) ? "holdout" : name === champion?.name ? "champion" : "challenger";
  const order = (name: string) => {
    const i = declared.findIndex((v) => v.name === name);
    return i === -1 ? declared.length : i;
  };
  const variants: VariantArm[] = arms
    .map((a) => ({
      variant: a.variant,
      role: roleOf(a.variant),
      enrolled: Number(a.enrolled),
      touched: Number(a.touched),
      attempted: Number(a.attempted),
      delivered: Number(a.delivered),
      payers: Number(a.payers),
      collected: collectedByVariant.get(a.variant) ?? [],
    }))
    .sort((x, y) => order(x.variant) - order(y.variant));

  const total = [...byChannel.values()].reduce(add, ZERO);
  return {
    campaign: { id, name: campaign.name, status: campaign.status, launchedAt: campaign.launchedAt, createdAt: campaign.createdAt },
    period,
    funnel: {
      ...total,
      promises: promises.reduce((n, p) => n + Number(p.promises), 0),
      payers: variants.reduce((n, v) => n + v.payers, 0),
      collected: mergeAmounts(variants.flatMap((v) => v.collected)),
    },
    days: daysOf(period).map((day) => ({ day, ...(byDay.get(day) ?? ZERO), promises: promisesByDay.get(day) ?? 0, payments: paymentsByDay.get(day) ?? 0 })),
    channels: [...byChannel.entries()].map(([channel, c]) => ({ channel, ...c })).sort((a, b) => a.channel.localeCompare(b.channel)),
    variants,
    significance: await significanceOf(db, id, campaign.strategy),
  };
}

function mergeAmounts(amounts: Amount[]): Amount[] {
  const sums = new Map<string, bigint>();
  for (const a of amounts) sums.set(a.currency, (sums.get(a.currency) ?? 0n) + a.amountMinor);
  return [...sums.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amountMinor]) => ({ currency, amountMinor }));
}

const MEASURES = ["conversion", "payerRate", "keptRate"] as const;

/**
 * The two-proportion tests of `GET /v1/campaigns/{id}/report/variants` (challengers against
 * the champion, contacted variants against the holdout), one row per rate.
 */
async function significanceOf(db: Database, campaignId: string, strategy: unknown): Promise<VariantSignificance[]> {
  const plan = strategy as CampaignStrategy;
  if (!Array.isArray(plan.variants) || plan.variants.length < 2) return [];
  const report = await variantReport(db, campaignId, plan);
  return [...report.challengers, ...report.incrementality].flatMap((r) =>
    MEASURES.map((measure) => ({ variant: r.currency ? `${r.variant} (${r.currency})` : r.variant, against: r.against, measure, comparison: r[measure] })),
  );
}
