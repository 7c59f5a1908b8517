// Normal and Student-t distributions from stdlib (a maintained numerics library) rather
// than hand-written approximations.
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import tCdf from "@stdlib/stats-base-dists-t-cdf";
import tQuantile from "@stdlib/stats-base-dists-t-quantile";

/**
 * Below this many accounts in either arm a difference is reported with the warning "too
 * small to conclude": with collections base rates of 5-20 %, a few thousand accounts per arm
 * are needed to see a difference of two or three points at 95 % confidence and 80 % power
 * (n ≈ 2 (z₀.₉₇₅ + z₀.₈)² p(1−p) / δ²: p = 0.1, δ = 0.025 gives about 2,260).
 */
export const MIN_ARM_SIZE = 2_000;

export interface Interval {
  low: number;
  high: number;
}

export interface ProportionComparison {
  a: { successes: number; n: number; rate: number | null };
  b: { successes: number; n: number; rate: number | null };
  /** rate(b) − rate(a). */
  difference: number | null;
  /**
   * Confidence interval of the difference: Newcombe's hybrid score interval (Newcombe 1998,
   * method 10), from each arm's Wilson score interval. Unlike the Wald interval it stays
   * within [-1, 1] and keeps a width with few or no successes.
   */
  interval: Interval | null;
  /** Two-proportion z statistic (pooled standard error) and its two-sided p-value. */
  z: number | null;
  pValue: number | null;
  tooSmall: boolean;
}

/**
 * Two-proportion z-test of b against a, with Newcombe's hybrid score interval on the difference.
 * @example compareProportions({ successes: 48, n: 80 }, { successes: 56, n: 70 }).interval // ≈ { low: 0.0524, high: 0.3339 }
 */
export function compareProportions(a: { successes: number; n: number }, b: { successes: number; n: number }, confidence = 0.95): ProportionComparison {
  const tooSmall = Math.min(a.n, b.n) < MIN_ARM_SIZE;
  const arm = (x: { successes: number; n: number }) => ({ ...x, rate: x.n > 0 ? x.successes / x.n : null });
  if (a.n === 0 || b.n === 0) return { a: arm(a), b: arm(b), difference: null, interval: null, z: null, pValue: null, tooSmall };
  const pa = a.successes / a.n;
  const pb = b.successes / b.n;
  const pooled = (a.successes + b.successes) / (a.n + b.n);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n));
  const z = sePooled === 0 ? null : (pb - pa) / sePooled;
  const zCrit = normalQuantile(1 - (1 - confidence) / 2, 0, 1);
  const wa = wilson(a, zCrit);
  const wb = wilson(b, zCrit);
  const difference = pb - pa;
  return {
    a: arm(a),
    b: arm(b),
    difference,
    // Each end combines the two arms' distances to their Wilson bounds in that direction;
    // the clamp only absorbs rounding (a bound can land an ulp past ±1).
    interval: {
      low: Math.max(-1, difference - Math.hypot(pb - wb.low, wa.high - pa)),
      high: Math.min(1, difference + Math.hypot(wb.high - pb, pa - wa.low)),
    },
    z,
    pValue: z === null ? null : 2 * (1 - normalCdf(Math.abs(z), 0, 1)),
    tooSmall,
  };
}

/** Wilson score interval of one proportion (n > 0). */
function wilson({ successes, n }: { successes: number; n: number }, zCrit: number): Interval {
  const p = successes / n;
  const z2 = zCrit * zCrit;
  const centre = p + z2 / (2 * n);
  const half = zCrit * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: (centre - half) / (1 + z2 / n), high: (centre + half) / (1 + z2 / n) };
}

/**
 * Sufficient statistics of a sample of whole amounts (minor units): count, sum and sum of
 * squares, exact. A sum of squares of money passes 2^53 quickly, where n·Σx² − (Σx)² in
 * floating point cancels to noise.
 */
export interface Moments {
  n: number;
  sum: bigint;
  sumSquares: bigint;
}

export interface MeanComparison {
  a: { n: number; mean: number | null; sd: number | null };
  b: { n: number; mean: number | null; sd: number | null };
  /** mean(b) − mean(a). */
  difference: number | null;
  interval: Interval | null;
  t: number | null;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number | null;
  pValue: number | null;
  tooSmall: boolean;
}

/**
 * Welch's t-test of b's mean against a's (unequal variances), e.g. money collected per
 * account, with a confidence interval on the difference.
 * @example compareMeans({ n: 10, sum: 200n, sumSquares: 4400n }, { n: 10, sum: 250n, sumSquares: 6850n })
 */
export function compareMeans(a: Moments, b: Moments, confidence = 0.95): MeanComparison {
  const tooSmall = Math.min(a.n, b.n) < MIN_ARM_SIZE;
  const describe = (x: Moments) => {
    const mean = x.n > 0 ? Number(x.sum) / x.n : null;
    // s² = (n·Σx² − (Σx)²) / (n(n − 1)), the numerator exact: rounded once, not cancelled.
    const variance = x.n > 1 ? Number(BigInt(x.n) * x.sumSquares - x.sum * x.sum) / (x.n * (x.n - 1)) : null;
    return { n: x.n, mean, variance: variance === null ? null : Math.max(0, variance) };
  };
  const da = describe(a);
  const db = describe(b);
  const arms = {
    a: { n: a.n, mean: da.mean, sd: da.variance === null ? null : Math.sqrt(da.variance) },
    b: { n: b.n, mean: db.mean, sd: db.variance === null ? null : Math.sqrt(db.variance) },
  };
  if (da.mean === null || db.mean === null || da.variance === null || db.variance === null) {
    return { ...arms, difference: da.mean !== null && db.mean !== null ? db.mean - da.mean : null, interval: null, t: null, df: null, pValue: null, tooSmall };
  }
  const va = da.variance / a.n;
  const vb = db.variance / b.n;
  const se = Math.sqrt(va + vb);
  const difference = db.mean - da.mean;
  if (se === 0) return { ...arms, difference, interval: null, t: null, df: null, pValue: null, tooSmall };
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  const t = difference / se;
  const tCrit = tQuantile(1 - (1 - confidence) / 2, df);
  return {
    ...arms,
    difference,
    interval: { low: difference - tCrit * se, high: difference + tCrit * se },
    t,
    df,
    pValue: 2 * (1 - tCdf(Math.abs(t), df)),
    tooSmall,
  };
}
