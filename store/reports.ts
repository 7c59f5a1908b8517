import type { Pool } from "pg";
import { Prisma } from "../generated/prisma/client.ts";
import { CHANNELS, type Channel } from "../domain/channel.ts";
import { costToCollect, DEFAULT_UNIT_COSTS, pricePeriods, type UnitCostVersion, type UnitCosts } from "../domain/mis/cost.ts";
import { emptyMeasures, isMoney, MEASURE_NAMES, rates, type ChannelSplit, type Measures, type Rates } from "../domain/mis/funnel.ts";
import { minorUnitDigits } from "../domain/money.ts";
import type { Database } from "../runtime/database.ts";

/** Dimensions a campaign report can be cut by, and the rollup column each reads. */
export const REPORT_DIMENSIONS = {
  variant: "variant",
  step: "step_id",
  channel: "channel",
  day: "day",
  dpdBucket: "dpd_bucket",
  agency: "agency",
} as const;
export type ReportDimension = keyof typeof REPORT_DIMENSIONS;

const COLUMN: Record<(typeof MEASURE_NAMES)[number], string> = {
  enrolled: "enrolled",
  outstandingMinor: "outstanding_minor",
  touched: "touched",
  contacted: "contacted",
  attempted: "attempted",
  delivered: "delivered",
  undelivered: "undelivered",
  opened: "opened",
  clicked: "clicked",
  replied: "replied",
  optedOut: "opted_out",
  connected: "connected",
  rpc: "rpc",
  units: "units",
  promises: "promises",
  promisedMinor: "promised_minor",
  promisesDue: "promises_due",
  promisesKept: "promises_kept",
  conversions: "conversions",
  payments: "payments",
  recoveredMinor: "recovered_minor",
  recoveredLinearMinor: "recovered_linear_minor",
  unattributedMinor: "unattributed_minor",
  collectedMinor: "collected_minor",
  commissionMinor: "commission_minor",
  placed: "placed",
  placedMinor: "placed_minor",
};

/** A measure summed over the rollup rows of a group, as text (sums of bigints overflow JavaScript's numbers). */
const sumOf = (name: (typeof MEASURE_NAMES)[number]) => Prisma.raw(`sum(f.${COLUMN[name]})::text AS "${name}"`);

/**
 * What a report cell sums, as one comma-separated text, in the order finish() reads it back:
 * the measures; calls placed, digital delivered and digital undelivered (ChannelSplit); the
 * cost per channel (units × the price joined from the unit costs in force).
 */
const FIGURES = [
  ...MEASURE_NAMES.map((name) => `sum(f.${COLUMN[name]})`),
  "COALESCE(sum(f.attempted) FILTER (WHERE f.channel = 'voice'), 0)",
  "COALESCE(sum(f.delivered) FILTER (WHERE f.channel NOT IN ('voice', '')), 0)",
  "COALESCE(sum(f.undelivered) FILTER (WHERE f.channel NOT IN ('voice', '')), 0)",
  ...CHANNELS.map((c) => `COALESCE(sum(f.units * p.price) FILTER (WHERE f.channel = '${c}'), 0)::float8`),
].join(", ");
// Looked up once: thousands of rows read these per cell.
const MEASURE_KINDS = MEASURE_NAMES.map((name) => [name, isMoney(name)] as const);

export interface CostCell {
  /** Per channel, in the unit costs' currency. */
  byChannel: Record<Channel, number>;
  total: number;
  currency: string | null;
  /** Markets billed without known unit costs (their units cost nothing here). */
  unpriced: string[];
}

export interface ReportRow {
  /** The cell's dimension values (null: account-level figures with no step or channel, no agency). */
  dimensions: Partial<Record<ReportDimension, string | null>>;
  /** Money is never summed across currencies: every row is one currency's. */
  currency: string;
  measures: Measures;
  split: ChannelSplit;
  rates: Rates;
  cost: CostCell;
  costToCollect: number | null;
}

/** Where a report reads from: Prisma for settings, node-postgres for the rows (thousands at a fine grain). */
export interface ReportSources {
  db: Database;
  bulk: Pool;
}

/**
 * A campaign's report from the rollup: the measures summed per requested grain (and
 * currency) over days from..to (reporting-zone days, inclusive), with rates, channel cost
 * (billed units × the unit cost in force on each day in each market), and cost to collect.
 * Two queries side by side, the grain and the totals per currency (as grouping sets they
 * must sort every row; apart, each is a hash aggregate at half the time); rows in the grain's order.
 *
 * The rows are read with node-postgres as arrays, and a cell's forty-odd figures travel as
 * one comma-separated text: a six-dimension cut has thousands of rows, node-postgres decodes
 * each field on its own (about 0.2 µs), and Prisma's row objects cost more than the query.
 * @example await campaignReport({ db, bulk }, { campaignId, by: ["variant", "channel"], from: "2026-12-01", to: "2026-12-31" })
 */
export async function campaignReport(
  { db, bulk }: ReportSources,
  query: { campaignId: string; by: ReportDimension[]; from: string; to: string },
): Promise<{ rows: ReportRow[]; totals: ReportRow[] }> {
  const versions = await unitCostVersions(db);
  const prices = pricePeriods(versions);
  const fx = fxRates(versions);
  const cut = async (by: ReportDimension[]) => {
    const grain = by.map((d) => Prisma.raw(`f.${REPORT_DIMENSIONS[d]}::text AS "${d}"`));
    const groupBy = Prisma.join([...by.map((d) => Prisma.raw(`f.${REPORT_DIMENSIONS[d]}`)), Prisma.raw("f.currency")]);
    const statement = Prisma.sql`
      WITH prices (market, channel, from_day, to_day, price, cost_currency) AS (
        SELECT * FROM (VALUES ${Prisma.join(prices.map((p) => Prisma.sql`(${p.market}, ${p.channel}, ${p.from}::date, ${p.to}::date, ${p.price}::float8, ${p.currency})`))})
          AS v (market, channel, from_day, to_day, price, cost_currency))
      SELECT ${Prisma.join([
        ...grain,
        Prisma.raw("f.currency"),
        Prisma.raw(`concat_ws(',', ${FIGURES}) AS figures`),
        Prisma.raw(`min(p.cost_currency) AS "costCurrency"`),
        // Not DISTINCT, which would sort within every group; repeats are dropped in finish().
        Prisma.raw(`string_agg(f.market, ' ') FILTER (WHERE p.price IS NULL AND f.units > 0 AND f.channel <> '') AS "unpriced"`),
      ])}
        FROM campaign_daily_facts f
        LEFT JOIN prices p ON p.market = f.market AND p.channel = f.channel AND f.day >= p.from_day AND f.day < p.to_day
       WHERE f.campaign_id = ${query.campaignId}::uuid AND f.day BETWEEN ${query.from}::date AND ${query.to}::date
       GROUP BY ${groupBy}`;
    const result = await bulk.query<Cell[]>({ text: statement.text, values: statement.values, rowMode: "array" });
    return inGrainOrder(result.rows, by.length).map((row) => finish(row, by, fx));
  };
  const [rows, totals] = await Promise.all([query.by.length > 0 ? cut(query.by) : null, cut([])]);
  return { rows: rows ?? totals, totals };
}

type Cell = string | number | boolean | null;

/** The report's attempted, delivered and undelivered: counts, so a sum over currencies still means something. */
export type ContactTotals = Pick<Measures, "attempted" | "delivered" | "undelivered">;
const CONTACT_TOTALS = ["attempted", "delivered", "undelivered"] as const satisfies readonly (keyof ContactTotals)[];

/**
 * Attempted, delivered and undelivered of several campaigns over every day and currency, from
 * the rollup the report reads (so under its definitions): one grouped query whatever their
 * number. Campaigns with nothing recorded are absent.
 * @example (await contactTotals(db, [id])).get(id)?.attempted ?? 0
 */
export async function contactTotals(db: Database, campaignIds: string[]): Promise<Map<string, ContactTotals>> {
  if (campaignIds.length === 0) return new Map();
  const rows = await db.$queryRaw<({ campaignId: string } & Record<keyof ContactTotals, string>)[]>`
    SELECT f.campaign_id::text AS "campaignId", ${Prisma.join(CONTACT_TOTALS.map(sumOf))}
      FROM campaign_daily_facts f
     WHERE f.campaign_id IN (${Prisma.join(campaignIds.map((id) => Prisma.sql`${id}::uuid`))})
     GROUP BY f.campaign_id`;
  return new Map(rows.map((r) => [r.campaignId, { attempted: Number(r.attempted), delivered: Number(r.delivered), undelivered: Number(r.undelivered) }]));
}

/** Value of a major unit of each collection currency in the cost currency: the defaults, overridden by versions. */
function fxRates(versions: UnitCostVersion[]): Record<string, number> {
  return Object.assign({}, ...Object.values(DEFAULT_UNIT_COSTS).map((c) => c.fxToCostCurrency), ...versions.map((v) => v.costs.fxToCostCurrency ?? {}));
}

/**
 * Result rows in the order of their grain's values, then currency (the first `width + 1`
 * cells). Sorted here on one key per row: PostgreSQL's sort of the finished rows cost more
 * than their aggregate, and comparing seven values per pair was slower than one string.
 */
function inGrainOrder(rows: Cell[][], width: number): Cell[][] {
  // NUL, which PostgreSQL text cannot hold, separates the values and sorts before any character.
  const keyed = rows.map((row) => {
    let key = String(row[0]);
    for (let i = 1; i <= width; i++) key += "\u0000" + String(row[i]);
    return { key, row };
  });
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.row);
}

/** A result row: the grain's values, currency, the FIGURES, cost currency, unpriced markets. */
function finish(row: Cell[], by: ReportDimension[], fx: Record<string, number>): ReportRow {
  const figures = (row[by.length + 1] as string).split(",");
  // Filled in place: an object grown key by key falls into V8's slow dictionary mode, and a
  // 6-dimension report has thousands of cells.
  const m = emptyMeasures() as unknown as Record<(typeof MEASURE_NAMES)[number], number | bigint>;
  let i = 0;
  for (const [name, money] of MEASURE_KINDS) {
    const value = figures[i++]!;
    // Most cells hold no money of a kind; parsing a bigint from text is costly, so zero is not parsed.
    m[name] = money ? (value === "0" ? 0n : BigInt(value)) : Number(value);
  }
  const measures = m as unknown as Measures;
  const split: ChannelSplit = { callsPlaced: Number(figures[i++]), digitalDelivered: Number(figures[i++]), digitalUndelivered: Number(figures[i++]) };
  const byChannel = {} as Record<Channel, number>;
  let total = 0;
  for (const c of CHANNELS) total += byChannel[c] = Number(figures[i++]);
  const currency = row[by.length] as string;
  const scale = 10 ** minorUnitDigits(currency);
  const dimensions: ReportRow["dimensions"] = {};
  for (let at = 0; at < by.length; at++) {
    const value = row[at] as string | null;
    dimensions[by[at]!] = value === "" ? null : value;
  }
  const unpriced = row[by.length + 3] as string | null;
  return {
    dimensions,
    currency,
    measures,
    split,
    rates: rates(measures, split),
    cost: { byChannel, total, currency: (row[by.length + 2] as string | null) ?? null, unpriced: unpriced ? [...new Set(unpriced.split(" "))].sort() : [] },
    costToCollect: costToCollect(
      { channelCost: total, commissionMajor: Number(measures.commissionMinor) / scale, collectedMajor: Number(measures.collectedMinor) / scale, currency },
      { fxToCostCurrency: fx },
    ),
  };
}

/** The unit cost versions configured (the defaults apply where none is). */
export async function unitCostVersions(db: Database): Promise<UnitCostVersion[]> {
  const rows = await db.unitCostVersion.findMany({ orderBy: [{ market: "asc" }, { effectiveFrom: "asc" }] });
  return rows.map((r) => ({ market: r.market, effectiveFrom: r.effectiveFrom.toISOString().slice(0, 10), costs: r.costs as unknown as UnitCosts }));
}
