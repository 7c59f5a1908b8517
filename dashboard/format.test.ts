import { describe, expect, it } from "vitest";
import { amounts, chartPercent, cost, money, percent } from "./format.ts";

describe("dashboard figures", () => {
  it.each([
    [150_000_050n, "IDR", "IDR 1,500,000.50"],
    [250_050n, "KES", "KES 2,500.50"],
    [5n, "JPY", "JPY 5"],
    [1_234_567n, "KWD", "KWD 1,234.567"],
    [9_007_199_254_740_993n, "USD", "USD 90,071,992,547,409.93"],
    [-150n, "USD", "-USD 1.50"],
  ])("shows %s minor units of %s exactly as %s", (minor, currency, shown) => {
    expect(money(minor, currency).replace(/\u00a0/g, " ")).toBe(shown);
  });

  it("lists amounts per currency and a dash for none", () => {
    expect(amounts([])).toBe("–");
    expect(
      amounts([
        { currency: "INR", amountMinor: 100n },
        { currency: "USD", amountMinor: 1n },
      ]).replace(/\u00a0/g, " "),
    ).toBe("INR 1.00 · USD 0.01");
  });

  it.each([
    [null, "–"],
    [0, "0.0 %"],
    [1 / 3, "33.3 %"],
    [1, "100.0 %"],
    [0.0004, "< 0.1 %"],
  ])("shows the ratio %s as %s", (ratio, shown) => {
    expect(percent(ratio)).toBe(shown);
  });

  it("shows a ratio with the decimals asked for", () => {
    expect(percent(0.001234, 2)).toBe("0.12 %");
    expect(percent(0.00001, 2)).toBe("< 0.01 %");
  });

  it.each([
    [0.036, "USD", "USD 0.036"],
    [0.1 + 0.2, "USD", "USD 0.30"],
    [1234.5, "USD", "USD 1,234.50"],
    [0.0000004, "USD", "USD 0.00"],
    [0, null, "–"],
  ])("shows the cost %s %s as %s", (amount, currency, shown) => {
    expect(cost(amount, currency).replace(/\u00a0/g, " ")).toBe(shown);
  });

  it.each([
    [null, null],
    [0.12345, 12.3],
    [1, 100],
  ])("plots the ratio %s as %s per cent", (ratio, plotted) => {
    expect(chartPercent(ratio)).toBe(plotted);
  });
});
