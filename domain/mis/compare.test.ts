import { describe, expect, it } from "vitest";
import { compareMeans, compareProportions, MIN_ARM_SIZE } from "./compare.ts";

describe("two-proportion z-test", () => {
  // Worked by hand: pooled p = 270/2000 = 0.135, SE = √(0.135·0.865·(2/1000)) = 0.015282,
  // z = 0.03 / 0.015282 = 1.96305, p = 2(1 − Φ(1.96305)) = 0.049640.
  it.each([
    { a: { successes: 120, n: 1000 }, b: { successes: 150, n: 1000 }, z: 1.96305, p: 0.04964, small: true },
    { a: { successes: 150, n: 1000 }, b: { successes: 120, n: 1000 }, z: -1.96305, p: 0.04964, small: true },
    { a: { successes: 500, n: 5000 }, b: { successes: 500, n: 5000 }, z: 0, p: 1, small: false },
  ])("$a.successes/$a.n vs $b.successes/$b.n", ({ a, b, z, p, small }) => {
    const result = compareProportions(a, b);
    expect(result.z).toBeCloseTo(z, 4);
    expect(result.pValue).toBeCloseTo(p, 4);
    expect(result.tooSmall).toBe(small);
  });

  // Newcombe (1998), table II, method 10: examples (a) to (h) as p1 − p2, here b − a, and
  // reversed; then the arms a Wald interval took beyond ±1 or to zero width.
  it.each([
    { a: "48/80", b: "56/70", low: 0.0524, high: 0.3339 },
    { a: "3/10", b: "9/10", low: 0.1705, high: 0.809 },
    { a: "2/7", b: "6/7", low: 0.0582, high: 0.8062 },
    { a: "0/29", b: "5/56", low: -0.0381, high: 0.1926 },
    { a: "0/20", b: "0/10", low: -0.1611, high: 0.2775 },
    { a: "0/10", b: "0/10", low: -0.2775, high: 0.2775 },
    { a: "0/20", b: "10/10", low: 0.6791, high: 1 },
    { a: "0/10", b: "10/10", low: 0.6075, high: 1 },
    { a: "56/70", b: "48/80", low: -0.3339, high: -0.0524 },
    { a: "10/10", b: "0/20", low: -1, high: -0.6791 },
    { a: "1/7", b: "3/4", low: 0.0249, high: 0.8428 },
    { a: "0/1", b: "0/7", low: -0.7935, high: 0.3543 },
  ])("95 % interval of $b − $a is [$low, $high]", ({ a, b, low, high }) => {
    const arm = (x: string) => ({ successes: Number(x.split("/")[0]), n: Number(x.split("/")[1]) });
    const { interval } = compareProportions(arm(a), arm(b));
    expect(interval!.low).toBeCloseTo(low, 4);
    expect(interval!.high).toBeCloseTo(high, 4);
  });

  it("keeps every interval within ±1, around the difference and wider than zero, for all arms up to 20", () => {
    const wrong: string[] = [];
    for (let na = 1; na <= 20; na++)
      for (let nb = 1; nb <= 20; nb++)
        for (let xa = 0; xa <= na; xa++)
          for (let xb = 0; xb <= nb; xb++) {
            const { difference: d, interval } = compareProportions({ successes: xa, n: na }, { successes: xb, n: nb });
            const { low, high } = interval!;
            if (!(-1 <= low && low <= d! && d! <= high && high <= 1 && low < high)) wrong.push(`${xb}/${nb} − ${xa}/${na}: [${low}, ${high}]`);
          }
    expect(wrong).toEqual([]);
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
  const moments = (xs: number[]) => ({
    n: xs.length,
    sum: xs.reduce((s, x) => s + BigInt(x), 0n),
    sumSquares: xs.reduce((s, x) => s + BigInt(x) * BigInt(x), 0n),
  });
  it("compares two small samples", () => {
    const result = compareMeans(moments([1, 2, 3, 4, 5]), moments([2, 4, 6, 8, 10]));
    expect(result.difference).toBe(3);
    expect(result.t).toBeCloseTo(1.89737, 4);
    expect(result.df).toBeCloseTo(5.88235, 4);
    expect(result.pValue).toBeCloseTo(0.10753, 4);
    expect(result.a.sd).toBeCloseTo(Math.sqrt(2.5), 10);
    // t₀.₉₇₅ at 5.88 df ≈ 2.4588: 3 ± 2.4588 × 1.58114, which holds 0.
    expect(result.interval!.low).toBeLessThan(0);
    expect(result.interval!.low).toBeCloseTo(-0.8877, 3);
    expect(result.interval!.high).toBeCloseTo(6.8877, 3);
    expect(result.tooSmall).toBe(true);
  });

  it("keeps the spread of large amounts (sums of squares past 2^53)", () => {
    // 2,000 payments of IDR 10,000,000.00 plus 0..1999 minor units: s² = 2000·2001/12 exactly,
    // where Σx² ≈ 2·10²⁴ in floating point loses the spread to rounding.
    const base = Array.from({ length: 2_000 }, (_, i) => 1_000_000_000 + i);
    const result = compareMeans(moments(base), moments(base.map((x) => x + 500)));
    expect(result.a.sd! ** 2).toBeCloseTo((2_000 * 2_001) / 12, 3);
    expect(result.difference).toBe(500);
    expect(result.t).toBeCloseTo(500 / Math.sqrt((2 * (2_000 * 2_001)) / 12 / 2_000), 6);
  });

  it("has no test with fewer than two observations in an arm", () => {
    expect(compareMeans(moments([5]), moments([1, 2, 3]))).toMatchObject({ t: null, pValue: null, difference: -3 });
  });
});
