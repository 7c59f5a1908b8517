import { CHANNELS, type Channel } from "../channel.ts";

/** One market's unit costs, as of a day. WhatsApp is billed per template category. */
export interface UnitCosts {
  /** Currency the costs are in. */
  currency: string;
  smsPerSegment: number;
  voicePerMinute: number;
  emailPerMessage: number;
  whatsapp: { utility: number; marketing: number };
  /** Collections reminders may be billed as marketing by WhatsApp: which category applies. */
  whatsappCategory: "utility" | "marketing";
  /** Value of one major unit of each collection currency in the cost currency (for cost to collect). */
  fxToCostCurrency: Record<string, number>;
}

export interface UnitCostVersion {
  market: string;
  /** YYYY-MM-DD: applies to attempts from this day on, until a later version. */
  effectiveFrom: string;
  costs: UnitCosts;
}

// Approximate values of one major unit in USD (late 2026); replace with a version of your own.
const FX_TO_USD: Record<string, number> = { USD: 1, INR: 0.012, IDR: 0.000061, KES: 0.0077 };

/** Defaults: the shared MIS reference's table (USD, approximate). */
export const DEFAULT_UNIT_COSTS: Record<string, UnitCosts> = {
  US: {
    currency: "USD",
    smsPerSegment: 0.012,
    voicePerMinute: 0.013,
    emailPerMessage: 0.0001,
    whatsapp: { utility: 0.0034, marketing: 0.025 },
    whatsappCategory: "utility",
    fxToCostCurrency: FX_TO_USD,
  },
  IN: {
    currency: "USD",
    smsPerSegment: 0.003,
    voicePerMinute: 0.006,
    emailPerMessage: 0.0001,
    whatsapp: { utility: 0.0014, marketing: 0.011 },
    whatsappCategory: "utility",
    fxToCostCurrency: FX_TO_USD,
  },
  ID: {
    currency: "USD",
    smsPerSegment: 0.012,
    voicePerMinute: 0.02,
    emailPerMessage: 0.0001,
    whatsapp: { utility: 0.02, marketing: 0.041 },
    whatsappCategory: "utility",
    fxToCostCurrency: FX_TO_USD,
  },
  KE: {
    currency: "USD",
    smsPerSegment: 0.02,
    voicePerMinute: 0.02,
    emailPerMessage: 0.0001,
    whatsapp: { utility: 0.004, marketing: 0.0225 },
    whatsappCategory: "utility",
    fxToCostCurrency: FX_TO_USD,
  },
};

/** One unit's price on a channel in a market over the days from (inclusive) to (exclusive). */
export interface PricePeriod {
  market: string;
  channel: Channel;
  from: string;
  to: string;
  price: number;
  currency: string;
}

/**
 * Unit prices per market and channel over time: the defaults from the beginning, each
 * configured version from its day until the next (the report joins its cells' days on them).
 * @example pricePeriods([]).find((p) => p.market === "ID" && p.channel === "sms")!.price // 0.012
 */
export function pricePeriods(versions: UnitCostVersion[]): PricePeriod[] {
  const markets = new Set([...Object.keys(DEFAULT_UNIT_COSTS), ...versions.map((v) => v.market)]);
  const periods: PricePeriod[] = [];
  for (const market of markets) {
    const own = versions.filter((v) => v.market === market).sort((a, b) => (a.effectiveFrom < b.effectiveFrom ? -1 : 1));
    const defaults = DEFAULT_UNIT_COSTS[market];
    const spans = [...(defaults ? [{ from: "0001-01-01", costs: defaults }] : []), ...own.map((v) => ({ from: v.effectiveFrom, costs: v.costs }))];
    spans.forEach((span, i) => {
      const to = spans[i + 1]?.from ?? "9999-12-31";
      for (const channel of CHANNELS)
        periods.push({ market, channel, from: span.from, to, price: channelCost(channel, 1, span.costs), currency: span.costs.currency });
    });
  }
  return periods;
}

/**
 * Cost of a channel's billed units (segments, minutes, messages), in the costs' currency.
 * @example channelCost("sms", 3, DEFAULT_UNIT_COSTS.US) // 0.036
 */
export function channelCost(channel: Channel, units: number, costs: UnitCosts): number {
  switch (channel) {
    case "sms":
      return units * costs.smsPerSegment;
    case "voice":
      return units * costs.voicePerMinute;
    case "email":
      return units * costs.emailPerMessage;
    case "whatsapp":
      return units * costs.whatsapp[costs.whatsappCategory];
  }
}

/**
 * A cost as reports show it: to a millionth of the cost currency, since unit prices are
 * fractions of a cent and a float sum carries noise below that.
 * @example roundCost(0.1 + 0.2) // 0.3
 */
export const roundCost = (amount: number): number => Math.round(amount * 1e6) / 1e6;

/**
 * Cost to collect: (channel cost + agency commission) ÷ amount collected, with the commission
 * and the collections converted into the cost currency. Null when nothing was collected or
 * the currency has no rate.
 * @example costToCollect({ channelCost: 10, commissionMajor: 15, collectedMajor: 100, currency: "USD" }, DEFAULT_UNIT_COSTS.US) // 0.25
 */
export function costToCollect(
  input: { channelCost: number; commissionMajor: number; collectedMajor: number; currency: string },
  costs: Pick<UnitCosts, "fxToCostCurrency">,
): number | null {
  const rate = costs.fxToCostCurrency[input.currency];
  if (rate === undefined || input.collectedMajor <= 0) return null;
  return (input.channelCost + input.commissionMajor * rate) / (input.collectedMajor * rate);
}
