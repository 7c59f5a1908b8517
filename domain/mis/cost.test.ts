import { describe, expect, it } from "vitest";
import { channelCost, costToCollect, DEFAULT_UNIT_COSTS, pricePeriods, type UnitCostVersion } from "./cost.ts";

describe("unit costs", () => {
  it.each([
    { channel: "sms", units: 3, market: "US", cost: 0.036 },
    { channel: "voice", units: 2, market: "IN", cost: 0.012 },
    { channel: "email", units: 1000, market: "KE", cost: 0.1 },
    { channel: "whatsapp", units: 10, market: "ID", cost: 0.2 },
  ] as const)("$units $channel units in $market cost $cost USD", ({ channel, units, market, cost }) => {
    expect(channelCost(channel, units, DEFAULT_UNIT_COSTS[market]!)).toBeCloseTo(cost, 10);
  });

  it("bills WhatsApp in the configured category", () => {
    expect(channelCost("whatsapp", 10, { ...DEFAULT_UNIT_COSTS.ID!, whatsappCategory: "marketing" })).toBeCloseTo(0.41, 10);
  });

  it("prices each day with the latest version in force, else the defaults", () => {
    const versions: UnitCostVersion[] = [
      { market: "ID", effectiveFrom: "2026-01-01", costs: { ...DEFAULT_UNIT_COSTS.ID!, smsPerSegment: 0.01 } },
      { market: "ID", effectiveFrom: "2026-07-01", costs: { ...DEFAULT_UNIT_COSTS.ID!, smsPerSegment: 0.009 } },
      { market: "BR", effectiveFrom: "2026-03-01", costs: { ...DEFAULT_UNIT_COSTS.US!, smsPerSegment: 0.05 } },
    ];
    const priceOn = (market: string, day: string) =>
      pricePeriods(versions).find((p) => p.market === market && p.channel === "sms" && p.from <= day && day < p.to)?.price;
    expect(priceOn("ID", "2025-12-31")).toBe(0.012);
    expect(priceOn("ID", "2026-06-30")).toBe(0.01);
    expect(priceOn("ID", "2026-07-01")).toBe(0.009);
    expect(priceOn("BR", "2026-02-28")).toBeUndefined();
    expect(priceOn("BR", "2026-03-01")).toBe(0.05);
    expect(priceOn("KE", "2026-03-01")).toBe(0.02);
  });

  it("computes cost to collect with the commission, in the cost currency", () => {
    // 10 USD of messages + 15 % commission on 1,000,000 IDR (150,000 IDR = 9.15 USD) over 61 USD collected.
    expect(costToCollect({ channelCost: 10, commissionMajor: 150_000, collectedMajor: 1_000_000, currency: "IDR" }, DEFAULT_UNIT_COSTS.ID!)).toBeCloseTo(
      (10 + 9.15) / 61,
      10,
    );
    expect(costToCollect({ channelCost: 10, commissionMajor: 0, collectedMajor: 0, currency: "USD" }, DEFAULT_UNIT_COSTS.US!)).toBeNull();
    expect(costToCollect({ channelCost: 10, commissionMajor: 0, collectedMajor: 5, currency: "BRL" }, DEFAULT_UNIT_COSTS.US!)).toBeNull();
  });
});
