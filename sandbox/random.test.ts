import { describe, expect, it } from "vitest";
import { createRng } from "./random.ts";

describe("createRng", () => {
  it("repeats its sequence for a seed", () => {
    const draws = (seed: number) => Array.from({ length: 5 }, createRng(seed).next);
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    expect(draws(7).every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it("picks by weight and never picks a zero weight", () => {
    const rng = createRng(1);
    const counts = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 4000; i++)
      counts[
        rng.pick([
          ["a", 3],
          ["b", 1],
          ["c", 0],
        ] as const)
      ]++;
    expect(counts.c).toBe(0);
    expect(counts.a / counts.b).toBeGreaterThan(2.5);
    expect(counts.a / counts.b).toBeLessThan(3.5);
  });

  it("shuffles a copy and forks independent generators", () => {
    const items = [1, 2, 3, 4, 5, 6];
    const shuffled = createRng(2).shuffle(items);
    expect([...shuffled].sort()).toEqual(items);
    expect(items).toEqual([1, 2, 3, 4, 5, 6]);
    const a = createRng(3);
    const b = createRng(3);
    expect(a.fork().next()).toBe(b.fork().next());
    expect(a.int(5, 5)).toBe(5);
  });
});
