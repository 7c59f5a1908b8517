import { describe, expect, it } from "vitest";
import { dpdBucket } from "./buckets.ts";
import { emptyMeasures, rates } from "./funnel.ts";

describe("funnel rates", () => {
  const m = {
    ...emptyMeasures(),
    touched: 80,
    contacted: 20,
    attempted: 100,
    delivered: 90,
    opened: 30,
    clicked: 9,
    replied: 4,
    optedOut: 1,
    connected: 6,
    rpc: 3,
  };
  it.each([
    ["deliveryRate", 85 / 95],
    // An SMS can be neither opened nor clicked: 40 of the 85 deliveries are email or WhatsApp, 25 email.
    ["openRate", 30 / 40],
    ["clickRate", 9 / 25],
    ["replyRate", 4 / 85],
    ["optOutRate", 1 / 85],
    ["connectRate", 6 / 10],
    ["rpcRate", 3 / 10],
    ["contactRate", 20 / 80],
  ] as const)("%s", (name, expected) => {
    // 10 calls placed (5 answered by a person), 85 digital deliveries and 10 failures.
    expect(rates(m, { callsPlaced: 10, digitalDelivered: 85, digitalUndelivered: 10, openableDelivered: 40, clickableDelivered: 25 })[name]).toBeCloseTo(
      expected,
      12,
    );
  });

  it("outcome rates, and null rather than a division by zero", () => {
    const outcome = { ...m, promises: 11, promisesDue: 10, promisesKept: 7, conversions: 8, collectedMinor: "250", outstandingMinor: "1000" };
    expect(rates(outcome, { callsPlaced: 10, digitalDelivered: 85, digitalUndelivered: 10, openableDelivered: 40, clickableDelivered: 25 })).toMatchObject({
      ptpRate: 11 / 88,
      keptRate: 0.7,
      conversionRate: 0.1,
      recoveryRate: 0.25,
    });
    expect(
      rates(emptyMeasures(), { callsPlaced: 0, digitalDelivered: 0, digitalUndelivered: 0, openableDelivered: 0, clickableDelivered: 0 }).deliveryRate,
    ).toBeNull();
  });
});

describe("DPD buckets", () => {
  it.each([
    [-3, "current"],
    [0, "current"],
    [1, "1-30"],
    [30, "1-30"],
    [31, "31-60"],
    [60, "31-60"],
    [61, "61-90"],
    [90, "61-90"],
    [91, "90+"],
  ] as const)("%i days past due is %s", (dpd, bucket) => {
    expect(dpdBucket(dpd)).toBe(bucket);
  });
});
