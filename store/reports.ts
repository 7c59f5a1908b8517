import pg, { type Pool } from "pg";
import { Prisma } from "../generated/prisma/client.ts";
import type { Channel } from "../domain/channel.ts";
import { costToCollect, DEFAULT_UNIT_COSTS, pricePeriods, roundCost, type UnitCostVersion, type UnitCosts } from "../domain/mis/cost.ts";
import { MEASURE_NAMES, rates, type ChannelSplit, type Measures, type Rates } from "../domain/mis/funnel.ts";
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
/** The dimensions in their canonical order (a report row's keys follow it). */
export const REPORT_DIMENSION_NAMES = Object.keys(REPORT_DIMENSIONS) as ReportDimension[];

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

const costOf = (channel: Channel) => `COALESCE(sum(f.units * p.price) FILTER (WHERE f.channel = '${channel}'), 0)::float8`;
/**
 * What a report cell sums, in the order its comma-separated figures text lists them: the
 * measures; calls placed, digital delivered and undelivered, openable and clickable delivered (ChannelSplit); the cost
 * per channel (units × the price joined from the unit costs in force).
 */
const FIGURES = {
  ...(Object.fromEntries(MEASURE_NAMES.map((name) => [name, `sum(f.${COLUMN[name]})`])) as Record<(typeof MEASURE_NAMES)[number], string>),
  callsPlaced: "COALESCE(sum(f.attempted) FILTER (WHERE f.channel = 'voice'), 0)",
  digitalDelivered: "COALESCE(sum(f.delivered) FILTER (WHERE f.channel NOT IN ('voice', '')), 0)",
  digitalUndelivered: "COALESCE(sum(f.undelivered) FILTER (WHERE f.channel NOT IN ('voice', '')), 0)",
  openableDelivered: "COALESCE(sum(f.delivered) FILTER (WHERE f.channel IN ('email', 'whatsapp')), 0)",
  clickableDelivered: "COALESCE(sum(f.delivered) FILTER (WHERE f.channel = 'email'), 0)",
  costSms: costOf("sms"),
  costWhatsapp: costOf("whatsapp"),
  costVoice: costOf("voice"),
  costEmail: costOf("email"),
};
type Figure = keyof typeof FIGURES;
/** Where each figure sits in a cell's figures text. */
const AT = Object.fromEntries(Object.keys(FIGURES).map((name, i) => [name, i])) as Record<Figure, number>;

/**
 * A report row as the API's JSON and CSV and the dashboard show it. The cell's dimension
 * values: null where a figure has none (account-level figures have no step or channel, most
 * none an agency); undefined, so absent from JSON, for dimensions outside the grain. Then its
 * currency (money is never summed across currencies), the measures, calls placed, the rates,
 * the cost per channel in the unit costs' currency (rounded to millionths) with the markets
 * billed without known unit costs (their units cost nothing here), and cost to collect.
 */
export type ReportRow = Record<ReportDimension, string | null | undefined> & { currency: string } & Measures &
  Pick<ChannelSplit, "callsPlaced"> &
  Rates & {
    costSms: number;
    costVoice: number;
    costEmail: number;
    costWhatsapp: number;
    costTotal: number;
    costCurrency: string | null;
    /** Space-separated market codes, or null. */
    unpricedMarkets: string | null;
    costToCollect: number | null;
  };

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
 * A cell's forty-odd figures travel as one comma-separated text, and each row is finished
 * as it arrives, while PostgreSQL still sends the rest: a six-dimension cut has thousands of
 * rows, and node-postgres decodes each field on its own (about 0.2 µs).
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
        Prisma.raw(`concat_ws(',', ${Object.values(FIGURES).join(", ")}) AS figures`),
        Prisma.raw(`min(p.cost_currency) AS "costCurrency"`),
        // Not DISTINCT, which would sort within every group; repeats are dropped in finish().
        Prisma.raw(`string_agg(f.market, ' ') FILTER (WHERE p.price IS NULL AND f.units > 0 AND f.channel <> '') AS "unpriced"`),
      ])}
        FROM campaign_daily_facts f
        LEFT JOIN prices p ON p.market = f.market AND p.channel = f.channel AND f.day >= p.from_day AND f.day < p.to_day
       WHERE f.campaign_id = ${query.campaignId}::uuid AND f.day BETWEEN ${query.from}::date AND ${query.to}::date
       GROUP BY ${groupBy}`;
    const at = REPORT_DIMENSION_NAMES.map((d) => by.indexOf(d));
    const keyed: Keyed[] = [];
    await eachRow(bulk, statement, (cells) => keyed.push({ key: grainKey(cells, by.length), row: finish(cells, at, by.length, fx) }));
    return inGrainOrder(keyed);
  };
  const [rows, totals] = await Promise.all([query.by.length > 0 ? cut(query.by) : null, cut([])]);
  return { rows: rows ?? totals, totals };
}

/**
 * Runs a statement on a connection of its own and hands each result row, as an array, to
 * `take` as it arrives.
 */
async function eachRow(bulk: Pool, statement: Prisma.Sql, take: (cells: Cell[]) => void): Promise<void> {
  const client = await bulk.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      const config: pg.QueryArrayConfig = { text: statement.text, values: statement.values, rowMode: "array" };
      const query = client.query(new pg.Query<Cell[]>(config));
      query.on("row", take);
      query.on("error", reject);
      query.on("end", () => resolve());
    });
  } finally {
    client.release();
  }
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

interface Keyed {
  key: string;
  row: ReportRow;
}

/** A result row's grain values, then currency (its first `width + 1` cells), as one sort key. */
function grainKey(cells: Cell[], width: number): string {
  // NUL, which PostgreSQL text cannot hold, separates the values and sorts before any character.
  let key = String(cells[0]);
  for (let i = 1; i <= width; i++) key += "\u0000" + String(cells[i]);
  return key;
}

/**
 * Rows in the order of their grain's values, then currency. Sorted here on one key per row:
 * PostgreSQL's sort of the finished rows cost more than their aggregate, and comparing seven
 * values per pair was slower than one string.
 */
function inGrainOrder(keyed: Keyed[]): ReportRow[] {
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.row);
}

// Helpers of finish(), at module level: a closure created per row costs more than its work
// (tsx names every function it creates).
const count = (figures: string[], name: Figure) => Number(figures[AT[name]]);
/** Money stays the exact text PostgreSQL summed. */
const exact = (figures: string[], name: Figure) => figures[AT[name]]!;
/** A dimension's value in a result row: null where the rollup holds none (""), undefined outside the grain (at -1). */
function dimension(cells: Cell[], at: number): string | null | undefined {
  if (at < 0) return undefined;
  const value = cells[at] as string;
  return value === "" ? null : value;
}

/**
 * A result row (the grain's values, currency, the FIGURES, cost currency, unpriced markets) as
 * a report row; `at` is where each of REPORT_DIMENSION_NAMES sits in it (-1: not in the
 * grain). Built as one object literal: objects filled key by key from lists of names were
 * several times slower to build and to serialise, and a six-dimension cut has thousands of rows.
 */
function finish(cells: Cell[], at: number[], width: number, fx: Record<string, number>): ReportRow {
  const f = (cells[width + 1] as string).split(",");
  const m: Measures = {
    enrolled: count(f, "enrolled"),
    outstandingMinor: exact(f, "outstandingMinor"),
    touched: count(f, "touched"),
    contacted: count(f, "contacted"),
    attempted: count(f, "attempted"),
    delivered: count(f, "delivered"),
    undelivered: count(f, "undelivered"),
    opened: count(f, "opened"),
    clicked: count(f, "clicked"),
    replied: count(f, "replied"),
    optedOut: count(f, "optedOut"),
    connected: count(f, "connected"),
    rpc: count(f, "rpc"),
    units: count(f, "units"),
    promises: count(f, "promises"),
    promisedMinor: exact(f, "promisedMinor"),
    promisesDue: count(f, "promisesDue"),
    promisesKept: count(f, "promisesKept"),
    conversions: count(f, "conversions"),
    payments: count(f, "payments"),
    recoveredMinor: exact(f, "recoveredMinor"),
    recoveredLinearMinor: count(f, "recoveredLinearMinor").toFixed(2),
    unattributedMinor: exact(f, "unattributedMinor"),
    collectedMinor: exact(f, "collectedMinor"),
    commissionMinor: exact(f, "commissionMinor"),
    placed: count(f, "placed"),
    placedMinor: exact(f, "placedMinor"),
  };
  const split: ChannelSplit = {
    callsPlaced: count(f, "callsPlaced"),
    digitalDelivered: count(f, "digitalDelivered"),
    digitalUndelivered: count(f, "digitalUndelivered"),
    openableDelivered: count(f, "openableDelivered"),
    clickableDelivered: count(f, "clickableDelivered"),
  };
  const r = rates(m, split);
  const sms = count(f, "costSms");
  const whatsapp = count(f, "costWhatsapp");
  const voice = count(f, "costVoice");
  const email = count(f, "costEmail");
  const total = sms + whatsapp + voice + email;
  const currency = cells[width] as string;
  const scale = 10 ** minorUnitDigits(currency);
  const unpriced = cells[width + 3] as string | null;
  return {
    variant: dimension(cells, at[0]!),
    step: dimension(cells, at[1]!),
    channel: dimension(cells, at[2]!),
    day: dimension(cells, at[3]!),
    dpdBucket: dimension(cells, at[4]!),
    agency: dimension(cells, at[5]!),
    currency,
    enrolled: m.enrolled,
    outstandingMinor: m.outstandingMinor,
    touched: m.touched,
    contacted: m.contacted,
    attempted: m.attempted,
    delivered: m.delivered,
    undelivered: m.undelivered,
    opened: m.opened,
    clicked: m.clicked,
    replied: m.replied,
    optedOut: m.optedOut,
    connected: m.connected,
    rpc: m.rpc,
    units: m.units,
    promises: m.promises,
    promisedMinor: m.promisedMinor,
    promisesDue: m.promisesDue,
    promisesKept: m.promisesKept,
    conversions: m.conversions,
    payments: m.payments,
    recoveredMinor: m.recoveredMinor,
    recoveredLinearMinor: m.recoveredLinearMinor,
    unattributedMinor: m.unattributedMinor,
    collectedMinor: m.collectedMinor,
    commissionMinor: m.commissionMinor,
    placed: m.placed,
    placedMinor: m.placedMinor,
    callsPlaced: split.callsPlaced,
    deliveryRate: r.deliveryRate,
    openRate: r.openRate,
    clickRate: r.clickRate,
    replyRate: r.replyRate,
    optOutRate: r.optOutRate,
    connectRate: r.connectRate,
    rpcRate: r.rpcRate,
    contactRate: r.contactRate,
    ptpRate: r.ptpRate,
    keptRate: r.keptRate,
    conversionRate: r.conversionRate,
    recoveryRate: r.recoveryRate,
    costSms: roundCost(sms),
    costVoice: roundCost(voice),
    costEmail: roundCost(email),
    costWhatsapp: roundCost(whatsapp),
    costTotal: roundCost(total),
    costCurrency: (cells[width + 2] as string | null) ?? null,
    unpricedMarkets: unpriced ? [...new Set(unpriced.split(" "))].sort().join(" ") : null,
    costToCollect: costToCollect(
      { channelCost: total, commissionMajor: Number(m.commissionMinor) / scale, collectedMajor: Number(m.collectedMinor) / scale, currency },
      { fxToCostCurrency: fx },
    ),
  };
}

/** The unit cost versions configured (the defaults apply where none is). */
export async function unitCostVersions(db: Database): Promise<UnitCostVersion[]> {
  const rows = await db.unitCostVersion.findMany({ orderBy: [{ market: "asc" }, { effectiveFrom: "asc" }] });
  return rows.map((r) => ({ market: r.market, effectiveFrom: r.effectiveFrom.toISOString().slice(0, 10), costs: r.costs as unknown as UnitCosts }));
}
