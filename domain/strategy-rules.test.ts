import { describe, expect, it } from "vitest";
import { campaignStrategySchema, strategySchema, variantSchema, type Variant } from "./strategy.ts";
import { conditionHolds, nextLocalTime, promiseBrokenAt, type AccountFacts } from "./strategy-rules.ts";
import { assignVariant } from "./variant.ts";

const facts: AccountFacts = { paid: false, promised: false, balanceMinor: "150000", daysPastDue: 45, lastOutcome: "failed" };

describe("branch conditions", () => {
  it.each([
    [{ paid: true as const }, facts, false],
    [{ paid: true as const }, { ...facts, paid: true }, true],
    [{ promised: true as const }, { ...facts, promised: true }, true],
    [{ balanceAtLeast: "150000" }, facts, true],
    [{ balanceAtLeast: "150001" }, facts, false],
    [{ balanceAtLeast: "9000000000000000000" }, { ...facts, balanceMinor: "9000000000000000001" }, true],
    [{ daysPastDue: { min: 31, max: 60 } }, facts, true],
    [{ daysPastDue: { min: 61 } }, facts, false],
    [{ daysPastDue: { max: 30 } }, facts, false],
    [{ lastOutcome: "failed" as const }, facts, true],
    [{ lastOutcome: "delivered" as const }, facts, false],
  ])("%j on %j is %s", (condition, f, expected) => {
    expect(conditionHolds(condition, f)).toBe(expected);
  });
});

describe("wait until a local time", () => {
  it.each([
    ["09:00", "Asia/Jakarta", "2026-12-07T01:00:00Z", "2026-12-07T02:00:00.000Z"],
    ["09:00", "Asia/Jakarta", "2026-12-07T02:00:00Z", "2026-12-08T02:00:00.000Z"],
    ["09:00", "America/New_York", "2026-03-07T15:00:00Z", "2026-03-08T13:00:00.000Z"],
    ["09:00", "America/New_York", "2026-10-31T15:00:00Z", "2026-11-01T14:00:00.000Z"],
    ["08:30", "Asia/Kolkata", "2026-12-06T20:00:00Z", "2026-12-07T03:00:00.000Z"],
  ])("next %s in %s after %s is %s", (hhmm, zone, now, expected) => {
    expect(new Date(nextLocalTime(hhmm, zone, Date.parse(now))).toISOString()).toBe(expected);
  });

  it("a promise due on the 10th with 2 days' grace breaks at the start of the 13th", () => {
    expect(new Date(promiseBrokenAt("2026-12-10", 2)).toISOString()).toBe("2026-12-13T00:00:00.000Z");
  });
});

describe("strategy validation", () => {
  it.each([
    [{ steps: [{ id: "b", kind: "branch", when: { paid: true }, then: "nowhere" }] }, "steps.0.then"],
    [{ steps: [{ id: "w", kind: "wait", until: "25:00" }] }, "steps.0.until"],
    [{ steps: [{ id: "w", kind: "wait" }] }, "steps.0.duration"],
    [{ steps: [{ id: "c", kind: "contact", channel: "sms", template: "t", fallbacks: ["fax"] }] }, "steps.0.fallbacks.0"],
    [{ steps: [{ id: "e", kind: "end" }], brokenPromiseStep: "x" }, "brokenPromiseStep"],
  ])("rejects %j at %s", (input, path) => {
    const result = strategySchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join("."))).toContain(path);
  });
});

describe("variant assignment", () => {
  const strategy = strategySchema.parse({ steps: [{ id: "e", kind: "end" }] });
  const variants = [
    variantSchema.parse({ name: "champion", weight: 70, strategy }),
    variantSchema.parse({ name: "challenger", weight: 20, strategy }),
    variantSchema.parse({ name: "holdout", weight: 10, holdout: true }),
  ];

  it("is stable for the same campaign and account", () => {
    expect(assignVariant("c1", "a1", variants).name).toBe(assignVariant("c1", "a1", variants).name);
  });

  it.each([
    ["account-0", "champion"],
    ["account-20", "challenger"],
    ["account-220", "holdout"],
  ])("keeps giving %s the variant it always had: %s", (account, name) => {
    expect(assignVariant("campaign-7", account, variants).name).toBe(name);
  });

  it.each([
    [1e308, "variants.0.weight"],
    [1_000_001, "variants.0.weight"],
    [0, "variants.0.weight"],
    [-1, "variants.0.weight"],
  ])("refuses a weight of %d at %s", (weight, path) => {
    const result = campaignStrategySchema.safeParse({ variants: [{ name: "a", weight, strategy: { steps: [{ id: "e", kind: "end" }] } }] });
    expect(result.error?.issues.map((i) => i.path.join("."))).toContain(path);
  });

  it("splits a plan stored with weights summing to Infinity by their ratio, not all to the last variant", () => {
    const huge = [
      { name: "a", weight: 1e308, strategy },
      { name: "b", weight: 1e308, strategy },
    ] as Variant[];
    let a = 0;
    for (let i = 0; i < 10_000; i++) if (assignVariant("campaign-7", `account-${i}`, huge).name === "a") a++;
    expect(a / 10_000).toBeCloseTo(0.5, 1);
  });

  it("follows the weights over many accounts", () => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++) {
      const name = assignVariant("campaign-7", `account-${i}`, variants).name;
      counts[name] = (counts[name] ?? 0) + 1;
    }
    expect(counts.champion! / 20_000).toBeCloseTo(0.7, 1);
    expect(counts.challenger! / 20_000).toBeCloseTo(0.2, 1);
    expect(counts.holdout! / 20_000).toBeCloseTo(0.1, 1);
  });
});
