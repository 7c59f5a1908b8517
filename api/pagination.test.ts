import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, page } from "./pagination.ts";
import { ProblemError } from "./problem.ts";

const rows = [1, 2, 3, 4, 5].map((n) => ({ id: `a${n}`, n }));

describe("cursor pagination", () => {
  it.each([
    { fetched: rows.slice(0, 3), limit: 2, items: ["a1", "a2"], next: ["a2"] },
    { fetched: rows.slice(0, 2), limit: 2, items: ["a1", "a2"], next: null },
    { fetched: rows.slice(0, 1), limit: 2, items: ["a1"], next: null },
    { fetched: [], limit: 2, items: [], next: null },
  ])("$fetched.length rows fetched for a page of $limit", ({ fetched, limit, items, next }) => {
    const result = page(
      fetched,
      limit,
      (r) => [r.id],
      (r) => r.id,
    );
    expect(result.items).toEqual(items);
    expect(result.nextCursor === null ? null : decodeCursor(result.nextCursor, 1)).toEqual(next);
  });

  it("round-trips a composite key", () => {
    expect(decodeCursor(encodeCursor(["2026-11-23T10:00:00.000Z", 7]), 2)).toEqual(["2026-11-23T10:00:00.000Z", 7]);
  });

  it.each(["not base64 json", encodeCursor(["only one"]), Buffer.from('{"k":[{}]}').toString("base64url")])(
    "refuses a cursor it did not issue (%s) with a 400 naming the field",
    (cursor) => {
      const error = (() => {
        try {
          decodeCursor(cursor, 2);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ProblemError);
      expect((error as ProblemError).errors).toEqual([{ field: "query.cursor", reason: "not a cursor this listing issued" }]);
    },
  );
});
