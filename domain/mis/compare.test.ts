import { describe, expect, it } from "vitest";
import { compareMeans, compareProportions, MIN_ARM_SIZE } from "./compare.ts";

describe("two-proportion z-test", () => {
  // Worked by hand: pooled p = 270/2000 = 0.135, SE = √(0.135·0.865·(2/1000)) = 0.015282,
  // z = 0.03 / 0.015282 = 1.96305, p = 2(1 − Φ(1.96305)) = 0.049640; unpooled SE 0.015268,
  // 95 % CI 0.03 ± 1.959964·0.015268 = [0.000076, 0.059924].
  it.each([
    { a: { successes: 120, n: 1000 }, b: { successes: 150, n: 1000 }, z: 1.96305, p: 0.04964, low: 0.000076, high: 0.059924, small: true },
    { a: { successes: 150, n: 1000 }, b: { successes: 120, n: 1000 }, z: -1.96305, p: 0.04964, low: -0.059924, high: -0.000076, small: true },
    { a: { successes: 500, n: 5000 }, b: { successes: 500, n: 5000 }, z: 0, p: 1, low: -0.01176, high: 0.01176, small: false },
  ])("$a.successes/$a.n vs $b.successes/$b.n", ({ a, b, z, p, low, high, small }) => {
    const result = compareProportions(a, b);
    expect(result.z).toBeCloseTo(z, 4);
    expect(result.pValue).toBeCloseTo(p, 4);
    expect(result.interval!.low).toBeCloseTo(low, 5);
    expect(result.interval!.high).toBeCloseTo(high, 5);
    expect(result.tooSmall).toBe(small);
  });

  it("has no test when an arm is empty or nobody differs", () => {
    expect(compareProportions({ successes: 0, n: 0 }, { successes: 3, n: 10 })).toMatchObject({ difference: null, pValue: null });
    expect(compareProportions({ successes: 0, n: 10 }, { successes: 0, n: 10 })).toMatchObject({ difference: 0, z: null, pValue: null });
  });

  it("warns below the documented arm size", () => {
    expect(compareProportions({ successes: 1, n: MIN_ARM_SIZE - 1 }, { successes: 1, n: 10_000 }).tooSmall).toBe(true);
    expect(compareProportions({ successes: 1, n: MIN_ARM_SIZE }, { successes: 1, n: MIN_ARM_SIZE }).tooSmall).toBe(false);
  });
});

describe("Welch's t-test", () => {
  // a = 1..5 (mean 3, s² 2.5), b = 2,4,..,10 (mean 6, s² 10): SE = √(0.5 + 2) = 1.58114,
  // t = 1.89737, df = 2.5² / (0.5²/4 + 2²/4) = 5.88235, two-sided p = 0.10753 (numerical integration of the t density).
  const moments = (xs: number[]) => ({ n: xs.length, sum: xs.reduce((s, x) => s + x, 0), sumSquares: xs.reduce((s, x) => s + x * x, 0) });
  it("compares two small samples", () => {
    const result = compareMeans(moments([1, 2, 3, 4, 5]), moments([2, 4, 6, 8, 10]));
    expect(result.difference).toBe(3);
    expect(result.t).toBeCloseTo(1.89737, 4);
    expect(result.df).toBeCloseTo(5.88235, 4);
    expect(result.pValue).toBeCloseTo(0.10753, 4);
    expect(result.a.sd).toBeCloseTo(Math.sqrt(2.5), 10);
    // t₀.₉₇₅ at 5.88 df ≈ 2.4606: the interval holds 0.
    expect(result.interval!.low).toBeLessThan(0);
    expect(result.interval!.high).toBeCloseTo(3 + (result.interval!.high - 3), 10);
    expect(result.tooSmall).toBe(true);
  });

  it("has no test with fewer than two observations in an arm", () => {
    expect(compareMeans(moments([5]), moments([1, 2, 3]))).toMatchObject({ t: null, pValue: null, difference: -3 });
  });
});
