import { describe, expect, it } from "vitest";
import type { VariantSignificance } from "../data/campaign.ts";
import { Significance } from "./campaign.tsx";

const row = (comparison: Partial<VariantSignificance["comparison"]>): VariantSignificance => ({
  variant: "sms-then-email",
  against: "champion",
  measure: "conversion",
  comparison: {
    a: { successes: 300, n: 3000, rate: 0.1 },
    b: { successes: 390, n: 3000, rate: 0.13 },
    difference: 0.03,
    interval: { low: 0.0142, high: 0.0458 },
    pValue: 0.0002,
    tooSmall: false,
    ...comparison,
  },
});

/** The rendered table's body cells, as text. */
const cells = async (rows: VariantSignificance[]) =>
  [...(await (<Significance rows={rows} />).toString()).matchAll(/<t[dh][^>]*>([^<]*)<\/t[dh]>/g)].map((m) => m[1]).slice(9);

describe("the variant significance table", () => {
  it.each([
    [{}, ["10.0 % of 3,000", "13.0 % of 3,000", "+3.0 pts", "+1.4 pts to +4.6 pts", "&lt; 0.001", "significant at 5 %"]],
    [
      { pValue: 0.21, interval: { low: -0.01, high: 0.07 } },
      ["10.0 % of 3,000", "13.0 % of 3,000", "+3.0 pts", "-1.0 pts to +7.0 pts", "0.210", "no significant difference"],
    ],
    [
      { a: { successes: 3, n: 40, rate: 0.075 }, b: { successes: 0, n: 0, rate: null }, difference: null, interval: null, pValue: null, tooSmall: true },
      ["7.5 % of 40", "– of 0", "–", "–", "–", "too small to conclude"],
    ],
  ])("shows %j as %j", async (comparison, shown) => {
    expect((await cells([row(comparison)])).slice(3)).toEqual(shown);
  });

  it("names the variant, its baseline and the measure, and renders nothing without comparisons", async () => {
    expect((await cells([row({})])).slice(0, 3)).toEqual(["sms-then-email", "champion", "conversion"]);
    expect(String(await (<Significance rows={[]} />).toString())).toBe("");
  });
});
