/**
 * A small seeded PRNG (mulberry32) and the draws the sandbox makes with it. Every message,
 * call and email gets its own generator forked from the sandbox's one when it is received, so
 * what happens to it depends only on the seed and the order of requests, never on timing.
 *
 * @example
 * const rng = createRng(42);
 * rng.pick([["delivered", 9], ["failed", 1]]); // "delivered" (always, for seed 42)
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  /** One key, drawn by weight. Falls back to the first key when every weight is 0. */
  pick<T>(weights: ReadonlyArray<readonly [T, number]>): T;
  /** A shuffled copy. */
  shuffle<T>(items: readonly T[]): T[];
  /** An independent generator seeded from this one (one draw). */
  fork(): Rng;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => nextUint32() / 4294967296;
  const rng: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (probability) => probability > 0 && next() < probability,
    pick(weights) {
      const first = weights[0];
      if (!first) throw new Error("pick() needs at least one option");
      const total = weights.reduce((sum, [, w]) => sum + w, 0);
      if (total <= 0) return first[0];
      let roll = next() * total;
      for (const [value, weight] of weights) {
        if (roll < weight) return value;
        roll -= weight;
      }
      return first[0];
    },
    shuffle(items) {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [copy[i], copy[j]] = [copy[j] as (typeof copy)[number], copy[i] as (typeof copy)[number]];
      }
      return copy;
    },
    fork: () => createRng(nextUint32()),
  };
  return rng;
}
