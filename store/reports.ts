import { Prisma } from "../generated/prisma/client.ts";
import { CHANNELS, type Channel } from "../domain/channel.ts";
import { channelCost, costToCollect, unitCostsFor, type UnitCostVersion, type UnitCosts } from "../domain/mis/cost.ts";
import { addMeasures, emptyMeasures, isMoney, MEASURE_NAMES, rates, type ChannelSplit, type Measures, type Rates } from "../domain/mis/funnel.ts";
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

interface Cell {
  dimensions: Partial<Record<ReportDimension, string | null>>;
  currency: string;
  measures: Measures;
  split: ChannelSplit;
  cost: CostCell;
  fx: UnitCosts["fxToCostCurrency"] | undefined;
}

/**
 * A campaign's report from the rollup: the measures summed per requested grain (and
 * currency) over days from..to (reporting-zone days, inclusive), with rates, channel cost
 * from the unit costs in force on each day, and cost to collect. Rows come sorted by grain.
 * @example await campaignReport(db, { campaignId, by: ["variant", "channel"], from: "2026-12-01", to: "2026-12-31" })
 */
export async function campaignReport(
  db: Database,
  query: { campaignId: string; by: ReportDimension[]; from: string; to: string },
): Promise<{ rows: ReportRow[]; totals: ReportRow[] }> {
  const grain = query.by.map((d) => Prisma.raw(`${REPORT_DIMENSIONS[d]}::text AS "${d}"`));
  const groupBy = [...new Set([...query.by.map((d) => REPORT_DIMENSIONS[d]), "market", "currency", "channel", "day"])].map((c) => Prisma.raw(c));
  const sums = MEASURE_NAMES.map((m) => Prisma.raw(`sum(${COLUMN[m]})::text AS "${m}"`));
  const rows = await db.$queryRaw<Record<string, string>[]>`
    SELECT ${Prisma.join([...grain, Prisma.raw("market"), Prisma.raw("currency"), Prisma.raw('channel AS "cellChannel"'), Prisma.raw('day::text AS "cellDay"'), ...sums])}
      FROM campaign_daily_facts
     WHERE campaign_id = ${query.campaignId}::uuid AND day BETWEEN ${query.from}::date AND ${query.to}::date
     GROUP BY ${Prisma.join(groupBy)}`;
  const versions = await unitCostVersions(db);
  const cells = new Map<string, Cell>();
  const totals = new Map<string, Cell>();
  for (const row of rows) {
    const measures = measuresOf(row);
    const channel = row.cellChannel as Channel | "";
    const dimensions = Object.fromEntries(query.by.map((d) => [d, row[d] === "" ? null : (row[d] ?? null)]));
    const costs = unitCostsFor(row.market!, row.cellDay!, versions);
    const split: ChannelSplit = {
      callsPlaced: channel === "voice" ? measures.attempted : 0,
      digitalDelivered: channel !== "voice" ? measures.delivered : 0,
      digitalUndelivered: channel !== "voice" ? measures.undelivered : 0,
    };
    const cost = emptyCost();
    if (channel !== "" && measures.units > 0) {
      if (costs) {
        cost.byChannel[channel] = channelCost(channel, measures.units, costs);
        cost.total = cost.byChannel[channel];
        cost.currency = costs.currency;
      } else cost.unpriced.push(row.market!);
    }
    for (const [map, key, dims] of [
      [cells, JSON.stringify([...query.by.map((d) => dimensions[d]), row.currency]), dimensions],
      [totals, row.currency!, {}],
    ] as const) {
      const cell = map.get(key);
      if (!cell) map.set(key, { dimensions: dims, currency: row.currency!, measures, split, cost, fx: costs?.fxToCostCurrency });
      else merge(cell, { measures, split, cost, fx: costs?.fxToCostCurrency });
    }
  }
  const order = (a: ReportRow, b: ReportRow) => {
    for (const d of query.by) {
      const x = a.dimensions[d] ?? "";
      const y = b.dimensions[d] ?? "";
      if (x !== y) return x < y ? -1 : 1;
    }
    return a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0;
  };
  return { rows: [...cells.values()].map(finish).sort(order), totals: [...totals.values()].map(finish).sort(order) };
}

function measuresOf(row: Record<string, string>): Measures {
  const m = emptyMeasures() as unknown as Record<string, number | bigint>;
  for (const name of MEASURE_NAMES) {
    const value = row[name] ?? "0";
    m[name] = isMoney(name) ? BigInt(value) : Number(value);
  }
  return m as unknown as Measures;
}

function emptyCost(): CostCell {
  return { byChannel: Object.fromEntries(CHANNELS.map((c) => [c, 0])) as Record<Channel, number>, total: 0, currency: null, unpriced: [] };
}

function merge(cell: Cell, add: Pick<Cell, "measures" | "split" | "cost" | "fx">): void {
  cell.measures = addMeasures(cell.measures, add.measures);
  cell.split = {
    callsPlaced: cell.split.callsPlaced + add.split.callsPlaced,
    digitalDelivered: cell.split.digitalDelivered + add.split.digitalDelivered,
    digitalUndelivered: cell.split.digitalUndelivered + add.split.digitalUndelivered,
  };
  for (const c of CHANNELS) cell.cost.byChannel[c] += add.cost.byChannel[c];
  cell.cost.total += add.cost.total;
  cell.cost.currency ??= add.cost.currency;
  cell.cost.unpriced = [...new Set([...cell.cost.unpriced, ...add.cost.unpriced])];
  cell.fx ??= add.fx;
}

function finish(cell: Cell): ReportRow {
  const { measures, split, cost } = cell;
  const major = (minor: bigint) => Number(minor) / 10 ** minorUnitDigits(cell.currency);
  return {
    dimensions: cell.dimensions,
    currency: cell.currency,
    measures,
    split,
    rates: rates(measures, split),
    cost: { ...cost, byChannel: { ...cost.byChannel } },
    costToCollect: costToCollect(
      { channelCost: cost.total, commissionMajor: major(measures.commissionMinor), collectedMajor: major(measures.collectedMinor), currency: cell.currency },
      { fxToCostCurrency: cell.fx ?? {} },
    ),
  };
}

/** The unit cost versions configured (the defaults apply where none is). */
export async function unitCostVersions(db: Database): Promise<UnitCostVersion[]> {
  const rows = await db.unitCostVersion.findMany({ orderBy: [{ market: "asc" }, { effectiveFrom: "asc" }] });
  return rows.map((r) => ({ market: r.market, effectiveFrom: r.effectiveFrom.toISOString().slice(0, 10), costs: r.costs as unknown as UnitCosts }));
}
