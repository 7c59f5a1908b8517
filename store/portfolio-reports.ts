import { compareMeans, compareProportions, type MeanComparison, type ProportionComparison } from "../domain/mis/compare.ts";
import { DPD_BUCKETS } from "../domain/mis/buckets.ts";
import type { CampaignStrategy } from "../domain/strategy.ts";
import type { Database } from "../runtime/database.ts";
import { recordAudit } from "./audit.ts";

/**
 * Takes the month's bucket snapshot of every account as it stands now (a repeat replaces it):
 * the basis of roll and cure rates. Audited as `actor`'s, in the same transaction. Returns how
 * many accounts it holds.
 * @example await takeBucketSnapshot(db, "2026-12", { actor: keyId })
 */
export async function takeBucketSnapshot(db: Database, month: string, audit: { actor: string; scheduled?: boolean }): Promise<number> {
  return db.$transaction(
    async (tx) => {
      const accounts = await tx.$executeRaw`
        INSERT INTO account_bucket_snapshots (month, account_id, dpd_bucket, days_past_due, balance_minor, currency, taken_at)
        SELECT ${`${month}-01`}::date, id, mis_bucket(days_past_due), days_past_due, balance_minor, currency, now() FROM accounts
        ON CONFLICT (month, account_id) DO UPDATE SET dpd_bucket = EXCLUDED.dpd_bucket, days_past_due = EXCLUDED.days_past_due,
          balance_minor = EXCLUDED.balance_minor, currency = EXCLUDED.currency, taken_at = EXCLUDED.taken_at`;
      const detail = audit.scheduled ? { accounts, scheduled: true } : { accounts };
      await recordAudit(tx, { actor: audit.actor, action: "report.snapshot", target: { type: "bucket-snapshot", id: month }, detail });
      return accounts;
    },
    // A large portfolio takes minutes to copy.
    { timeout: 30 * 60_000 },
  );
}

/** When the month's latest snapshot was taken (null: never). */
export async function snapshotTakenAt(db: Database, month: string): Promise<Date | null> {
  const [row] = await db.$queryRaw<{ taken_at: Date | null }[]>`
    SELECT max(taken_at) AS taken_at FROM account_bucket_snapshots WHERE month = ${`${month}-01`}::date`;
  return row?.taken_at ?? null;
}

export interface RollRateRow {
  month: string;
  currency: string;
  fromBucket: string;
  toBucket: string;
  /** Accounts and balance in fromBucket at the previous month's snapshot. */
  accountsBefore: number;
  balanceBeforeMinor: bigint;
  /** Of those, the accounts and balance in toBucket (the next bucket) at this month's. */
  accountsRolled: number;
  balanceRolledMinor: bigint;
  countRate: number | null;
  balanceRate: number | null;
}

/**
 * Roll (flow) rates by month: of the balance in bucket n at month t−1, the share in bucket
 * n+1 at month t (and the same by count), for every month pair of snapshots from..to.
 */
export async function rollRates(db: Database, range: { from: string; to: string }): Promise<RollRateRow[]> {
  const rows = await db.$queryRaw<
    { month: Date; currency: string; from_bucket: string; to_bucket: string; before_n: bigint; before_b: string; rolled_n: bigint; rolled_b: string }[]
  >`
    WITH buckets(name, ord) AS (SELECT * FROM unnest(${[...DPD_BUCKETS]}::text[]) WITH ORDINALITY)
    SELECT cur.month, prev.currency, prev.dpd_bucket AS from_bucket, nb.name AS to_bucket,
           count(*) AS before_n, sum(prev.balance_minor)::text AS before_b,
           count(*) FILTER (WHERE cur.dpd_bucket = nb.name) AS rolled_n,
           COALESCE(sum(cur.balance_minor) FILTER (WHERE cur.dpd_bucket = nb.name), 0)::text AS rolled_b
      FROM account_bucket_snapshots cur
      JOIN account_bucket_snapshots prev ON prev.account_id = cur.account_id AND prev.month = (cur.month - interval '1 month')::date
      JOIN buckets b ON b.name = prev.dpd_bucket
      JOIN buckets nb ON nb.ord = b.ord + 1
     WHERE cur.month BETWEEN ${range.from}::date AND ${range.to}::date
     GROUP BY cur.month, prev.currency, prev.dpd_bucket, nb.name, b.ord
     ORDER BY cur.month, prev.currency, b.ord`;
  return rows.map((r) => ({
    month: r.month.toISOString().slice(0, 10),
    currency: r.currency,
    fromBucket: r.from_bucket,
    toBucket: r.to_bucket,
    accountsBefore: Number(r.before_n),
    balanceBeforeMinor: BigInt(r.before_b),
    accountsRolled: Number(r.rolled_n),
    balanceRolledMinor: BigInt(r.rolled_b),
    countRate: Number(r.before_n) ? Number(r.rolled_n) / Number(r.before_n) : null,
    balanceRate: BigInt(r.before_b) ? Number(r.rolled_b) / Number(r.before_b) : null,
  }));
}

export interface CureRow {
  month: string;
  currency: string;
  bucket: string;
  delinquentAtStart: number;
  curedAtEnd: number;
  cureRate: number | null;
}

/** Cure rate per month and starting bucket: delinquent at the previous snapshot, current at this one. */
export async function cureRates(db: Database, range: { from: string; to: string }): Promise<CureRow[]> {
  const rows = await db.$queryRaw<{ month: Date; currency: string; bucket: string; delinquent: bigint; cured: bigint }[]>`
    SELECT cur.month, prev.currency, prev.dpd_bucket AS bucket, count(*) AS delinquent, count(*) FILTER (WHERE cur.dpd_bucket = 'current') AS cured
      FROM account_bucket_snapshots cur
      JOIN account_bucket_snapshots prev ON prev.account_id = cur.account_id AND prev.month = (cur.month - interval '1 month')::date
     WHERE cur.month BETWEEN ${range.from}::date AND ${range.to}::date AND prev.dpd_bucket <> 'current'
     GROUP BY cur.month, prev.currency, prev.dpd_bucket
     ORDER BY cur.month, prev.currency, prev.dpd_bucket`;
  return rows.map((r) => ({
    month: r.month.toISOString().slice(0, 10),
    currency: r.currency,
    bucket: r.bucket,
    delinquentAtStart: Number(r.delinquent),
    curedAtEnd: Number(r.cured),
    cureRate: Number(r.delinquent) ? Number(r.cured) / Number(r.delinquent) : null,
  }));
}

/** The reporting zone and the agencies' first-contact SLA (one settings row; defaults until set). */
export async function reportSettings(db: Database): Promise<{ timeZone: string; firstContactSlaDays: number }> {
  const row = await db.reportSettings.findUnique({ where: { id: 1 } });
  return { timeZone: row?.timeZone ?? "UTC", firstContactSlaDays: row?.firstContactSlaDays ?? 3 };
}

export interface AgencyRow {
  agency: string;
  currency: string;
  placements: number;
  placedMinor: bigint;
  /** Paid while placed: from placement until the agency recalled it or Tagih closed it (paid, cancelled, held). */
  collectedMinor: bigint;
  accountsPaying: number;
  liquidationRate: number | null;
  placementSuccess: number | null;
  recoveryPerPlacedMinor: number | null;
  /** Placements whose first-contact SLA has run out or that had a contact. */
  firstContactsDue: number;
  firstContactsInSla: number;
  slaAdherence: number | null;
}

/**
 * Agency performance for placements made from..to: liquidation (collected ÷ placed amount),
 * placement success (placed accounts with any payment ÷ placed), recovery per placed account,
 * and first-contact SLA adherence (a contact callback within `slaDays` of placement ÷
 * placements due one).
 */
export async function agencyPerformance(db: Database, query: { from: string; to: string; slaDays: number; now: Date }): Promise<AgencyRow[]> {
  const rows = await db.$queryRaw<
    { agency: string; currency: string; placements: bigint; placed: string; collected: string; paying: bigint; due: bigint; in_sla: bigint }[]
  >`
    WITH placed AS (
      SELECT p.id, g.name AS agency, p.currency, p.amount_minor, p.account_id, p.placed_at, LEAST(p.recalled_at, p.closed_at) AS ended_at,
             (SELECT min(c.received_at) FROM callbacks c
               WHERE c.vendor = 'agency:' || p.agency_id::text AND c.kind = 'agency-contact' AND c.payload ->> 'placementId' = p.id::text) AS first_contact
        FROM placements p JOIN agencies g ON g.id = p.agency_id
       WHERE mis_day(p.placed_at) BETWEEN ${query.from}::date AND ${query.to}::date),
    paid AS (
      SELECT pl.id, COALESCE(sum(y.amount_minor), 0) AS collected
        FROM placed pl LEFT JOIN payments y ON y.account_id = pl.account_id AND y.paid_at >= pl.placed_at
                                           AND (pl.ended_at IS NULL OR y.paid_at < pl.ended_at)
       GROUP BY pl.id)
    SELECT pl.agency, pl.currency, count(*) AS placements, sum(pl.amount_minor)::text AS placed, sum(paid.collected)::text AS collected,
           count(*) FILTER (WHERE paid.collected > 0) AS paying,
           count(*) FILTER (WHERE pl.first_contact IS NOT NULL OR pl.placed_at + make_interval(days => ${query.slaDays}) <= ${query.now}) AS due,
           count(*) FILTER (WHERE pl.first_contact <= pl.placed_at + make_interval(days => ${query.slaDays})) AS in_sla
      FROM placed pl JOIN paid ON paid.id = pl.id
     GROUP BY pl.agency, pl.currency
     ORDER BY pl.agency, pl.currency`;
  return rows.map((r) => {
    const placements = Number(r.placements);
    const due = Number(r.due);
    return {
      agency: r.agency,
      currency: r.currency,
      placements,
      placedMinor: BigInt(r.placed),
      collectedMinor: BigInt(r.collected),
      accountsPaying: Number(r.paying),
      liquidationRate: BigInt(r.placed) ? Number(r.collected) / Number(r.placed) : null,
      placementSuccess: placements ? Number(r.paying) / placements : null,
      recoveryPerPlacedMinor: placements ? Number(r.collected) / placements : null,
      firstContactsDue: due,
      firstContactsInSla: Number(r.in_sla),
      slaAdherence: due ? Number(r.in_sla) / due : null,
    };
  });
}

export interface SharedPhoneRow {
  phone: string;
  accounts: number;
  /** The first few accounts on it, by external id. */
  externalIds: string[];
}

/**
 * Phone numbers on `minAccounts` or more accounts, most shared first. The gate counts the
 * contacts of every account sharing a phone against one debtor's caps (`SAME_DEBTOR` in
 * gate-input.ts): right for a person with a card and a loan, wrong for a placeholder or a
 * switchboard number, whose accounts then share one debtor's few contacts a week.
 */
export async function sharedPhones(
  db: Database,
  query: { minAccounts: number; limit: number; sample: number },
): Promise<{ numbers: number; accounts: number; rows: SharedPhoneRow[] }> {
  const rows = await db.$queryRaw<{ phone: string; accounts: number; external_ids: string[]; numbers: number; on_them: number }[]>`
    WITH shared AS (
      SELECT phone, count(*)::int AS accounts, (array_agg(external_id ORDER BY external_id))[1:${query.sample}::int] AS external_ids
        FROM accounts WHERE phone IS NOT NULL GROUP BY phone HAVING count(*) >= ${query.minAccounts}::int)
    SELECT phone, accounts, external_ids, count(*) OVER ()::int AS numbers, (sum(accounts) OVER ())::int AS on_them
      FROM shared ORDER BY accounts DESC, phone LIMIT ${query.limit}::int`;
  return {
    numbers: rows[0]?.numbers ?? 0,
    accounts: rows[0]?.on_them ?? 0,
    rows: rows.map((r) => ({ phone: r.phone, accounts: r.accounts, externalIds: r.external_ids })),
  };
}

export interface VariantArm {
  variant: string;
  holdout: boolean;
  currency: string;
  enrolled: number;
  touched: number;
  conversions: number;
  /** Accounts with any payment since enrolment (comparable with a holdout, which has no touches). */
  payers: number;
  promisesDue: number;
  promisesKept: number;
  /** Collected per enrolled account, minor units: moments for Welch's test, exact (a sum of squares passes 2^53 with payments of 10^8). */
  paid: { n: number; sum: bigint; sumSquares: bigint };
}

export interface VariantComparison {
  variant: string;
  against: string;
  currency: string;
  conversion: ProportionComparison;
  payerRate: ProportionComparison;
  keptRate: ProportionComparison;
  collectedPerAccount: MeanComparison;
}

/**
 * The champion: the variant named "champion", else the first that contacts (a strategy always has one).
 * @example championOf({ variants: [{ name: "holdout", weight: 1, holdout: true }, { name: "a", weight: 1, strategy }] }).name // "a"
 */
export function championOf(strategy: CampaignStrategy): CampaignStrategy["variants"][number] {
  return strategy.variants.find((v) => v.name === "champion" && !("holdout" in v)) ?? strategy.variants.find((v) => !("holdout" in v))!;
}

/**
 * Champion / challenger: each variant's arm, each challenger against the champion (the
 * variant named "champion", else the first that contacts), and each contacted variant
 * against the holdout (incrementality: payer rate and collected per account).
 */
export async function variantReport(db: Database, campaignId: string, strategy: CampaignStrategy) {
  const arms = await db.$queryRaw<
    { variant: string; currency: string; enrolled: bigint; touched: bigint; payers: bigint; paid_sum: string; paid_squares: string }[]
  >`
    SELECT e.variant, a.currency, count(*) AS enrolled, count(e.touched_at) AS touched, count(*) FILTER (WHERE paid.total > 0) AS payers,
           COALESCE(sum(paid.total), 0)::text AS paid_sum, COALESCE(sum(paid.total * paid.total), 0)::text AS paid_squares
      FROM enrolments e JOIN accounts a ON a.id = e.account_id
      LEFT JOIN LATERAL (SELECT COALESCE(sum(y.amount_minor), 0)::numeric AS total FROM payments y
                          WHERE y.account_id = e.account_id AND y.paid_at >= e.enrolled_at) paid ON true
     WHERE e.campaign_id = ${campaignId}::uuid
     GROUP BY e.variant, a.currency`;
  const outcomes = await db.$queryRaw<{ variant: string; currency: string; conversions: bigint; due: bigint; kept: bigint }[]>`
    SELECT variant, currency, sum(conversions)::bigint AS conversions, sum(promises_due)::bigint AS due, sum(promises_kept)::bigint AS kept
      FROM campaign_daily_facts WHERE campaign_id = ${campaignId}::uuid GROUP BY variant, currency`;
  const holdouts = new Set(strategy.variants.filter((v) => "holdout" in v).map((v) => v.name));
  const byArm = new Map(outcomes.map((o) => [`${o.variant}:${o.currency}`, o]));
  const list: VariantArm[] = arms
    .map((a) => {
      const o = byArm.get(`${a.variant}:${a.currency}`);
      return {
        variant: a.variant,
        holdout: holdouts.has(a.variant),
        currency: a.currency,
        enrolled: Number(a.enrolled),
        touched: Number(a.touched),
        conversions: Number(o?.conversions ?? 0),
        payers: Number(a.payers),
        promisesDue: Number(o?.due ?? 0),
        promisesKept: Number(o?.kept ?? 0),
        paid: { n: Number(a.enrolled), sum: BigInt(a.paid_sum), sumSquares: BigInt(a.paid_squares) },
      };
    })
    .sort((x, y) => strategy.variants.findIndex((v) => v.name === x.variant) - strategy.variants.findIndex((v) => v.name === y.variant));
  const champion = championOf(strategy);
  const compare = (base: VariantArm, other: VariantArm): VariantComparison => ({
    variant: other.variant,
    against: base.variant,
    currency: other.currency,
    conversion: compareProportions({ successes: base.conversions, n: base.touched }, { successes: other.conversions, n: other.touched }),
    payerRate: compareProportions({ successes: base.payers, n: base.enrolled }, { successes: other.payers, n: other.enrolled }),
    keptRate: compareProportions({ successes: base.promisesKept, n: base.promisesDue }, { successes: other.promisesKept, n: other.promisesDue }),
    collectedPerAccount: compareMeans(base.paid, other.paid),
  });
  const challengers: VariantComparison[] = [];
  const incrementality: VariantComparison[] = [];
  for (const base of list.filter((a) => a.variant === champion.name)) {
    for (const other of list.filter((a) => a.currency === base.currency && a.variant !== base.variant && !a.holdout)) challengers.push(compare(base, other));
  }
  for (const holdout of list.filter((a) => a.holdout)) {
    for (const treated of list.filter((a) => a.currency === holdout.currency && !a.holdout)) incrementality.push(compare(holdout, treated));
  }
  return { champion: champion.name, arms: list, challengers, incrementality };
}
