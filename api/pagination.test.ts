import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, page, type CursorKind } from "./pagination.ts";
import { ProblemError } from "./problem.ts";

const rows = [1, 2, 3, 4, 5].map((n) => ({ id: `a${n}`, n }));
const raw = (json: string) => Buffer.from(json).toString("base64url");
const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (e) {
    return e;
  }
  return undefined;
};
const UUID = "4c1d2e3f-0a1b-4c2d-8e3f-0123456789ab";

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
    expect(result.nextCursor === null ? null : decodeCursor(result.nextCursor, ["text"])).toEqual(next);
  });

  it("round-trips every kind of key as its query takes it", () => {
    const at = new Date("2026-11-23T10:00:00.000Z");
    expect(decodeCursor(encodeCursor([at.toISOString(), UUID, "CC-1001", "9007199254740993"]), ["timestamp", "uuid", "text", "integer"])).toEqual([
      at,
      UUID,
      "CC-1001",
      9007199254740993n,
    ]);
    expect(decodeCursor(undefined, ["uuid"])).toBeUndefined();
  });

  it.each<{ why: string; cursor: string; kinds: CursorKind[] }>([
    { why: "not base64 JSON", cursor: "not base64 json", kinds: ["text"] },
    { why: "JSON without k", cursor: raw("null"), kinds: ["text"] },
    { why: "too few keys", cursor: encodeCursor(["only one"]), kinds: ["timestamp", "uuid"] },
    { why: "too many keys", cursor: encodeCursor([UUID, UUID]), kinds: ["uuid"] },
    { why: "an object for a key", cursor: raw('{"k":[{}]}'), kinds: ["text"] },
    { why: "a non-UUID id", cursor: encodeCursor(["x"]), kinds: ["uuid"] },
    { why: "a number for a UUID", cursor: encodeCursor([7]), kinds: ["uuid"] },
    { why: "a non-date timestamp", cursor: encodeCursor(["not-a-date", UUID]), kinds: ["timestamp", "uuid"] },
    { why: "a day that does not exist", cursor: encodeCursor(["2026-02-30T00:00:00.000Z", UUID]), kinds: ["timestamp", "uuid"] },
    { why: "a year PostgreSQL cannot store", cursor: encodeCursor(["-271821-04-20T00:00:00.000Z", UUID]), kinds: ["timestamp", "uuid"] },
    { why: "a bad UUID after a good timestamp", cursor: encodeCursor(["2026-01-01T00:00:00.000Z", "not-a-uuid"]), kinds: ["timestamp", "uuid"] },
    { why: "a NUL in text", cursor: encodeCursor(["a\0b"]), kinds: ["text"] },
    { why: "a lone surrogate in text", cursor: encodeCursor(["\ud800"]), kinds: ["text"] },
    { why: "a negative integer", cursor: encodeCursor(["-1"]), kinds: ["integer"] },
    { why: "an integer past bigint", cursor: encodeCursor(["9223372036854775808"]), kinds: ["integer"] },
  ])("refuses a cursor with $why with a 400 naming query.cursor", ({ cursor, kinds }) => {
    const error = refusal(() => decodeCursor(cursor, kinds));
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).status).toBe(400);
    expect((error as ProblemError).errors).toEqual([{ field: "query.cursor", reason: "not a cursor this listing issued" }]);
  });

  it("takes text PostgreSQL can store and refuses a NUL", () => {
    expect(decodeCursor(encodeCursor(["Agency A"]), ["text"])).toEqual(["Agency A"]);
    expect(refusal(() => decodeCursor(encodeCursor(["a\0"]), ["text"]))).toBeInstanceOf(ProblemError);
  });
});
