// String.prototype.isWellFormed is in Node 20 but in TypeScript's ES2024 lib, past the project's ES2023.
/// <reference lib="es2024.string" />
import { z } from "@hono/zod-openapi";
import { ProblemError } from "./problem.ts";

/**
 * Keyset (cursor) pagination shared by every listing: `?limit=&cursor=` in,
 * `{ items, nextCursor }` out. A cursor is the sort key of the last item returned, so pages
 * stay stable while rows are inserted (no OFFSET drift) and each page is one index range scan.
 */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ description: "Items per page (1–500, default 50)" }),
  cursor: z.string().max(500).optional().openapi({ description: "`nextCursor` of the previous page" }),
});

/** The response shape of a listing of `item`. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** Sort-key values a cursor may carry (dates travel as ISO strings). */
export type CursorKey = string | number;

/**
 * What one sort key of a listing is, so a forged cursor is refused before it reaches a query
 * (PostgreSQL would fail on it: a 500). `timestamp` is a `Date` as `toISOString()` writes it,
 * `uuid` a UUID, `integer` a bigint id (as a digit string), `text` any string PostgreSQL can
 * store.
 */
export type CursorKind = "timestamp" | "uuid" | "text" | "integer";

type CursorValue<K extends CursorKind> = K extends "timestamp" ? Date : K extends "integer" ? bigint : string;

/** The decoded keys of a cursor of `kinds`, each as its query takes it. */
export type CursorKeys<K extends readonly CursorKind[]> = { -readonly [I in keyof K]: CursorValue<K[I]> };

/** Encodes the sort key of the last item of a page as an opaque cursor. */
export function encodeCursor(key: CursorKey[]): string {
  return Buffer.from(JSON.stringify({ k: key })).toString("base64url");
}

/**
 * Decodes `?cursor=`, checking it carries one key of each kind, in order; a forged or stale
 * cursor is a 400 naming `query.cursor`. Timestamps come back as `Date`, integers as `bigint`.
 * @example const after = decodeCursor(query.cursor, ["timestamp", "uuid"]); // [Date, string] | undefined
 */
export function decodeCursor<const K extends readonly CursorKind[]>(cursor: string | undefined, kinds: K): CursorKeys<K> | undefined;
export function decodeCursor(cursor: string | undefined, kinds: readonly CursorKind[]): unknown[] | undefined {
  if (cursor === undefined) return undefined;
  let keys: unknown;
  try {
    keys = (JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { k?: unknown }).k;
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(keys) || keys.length !== kinds.length) throw invalidCursor();
  return kinds.map((kind, i) => {
    const value = cursorValue(kind, keys[i]);
    if (value === undefined) throw invalidCursor();
    return value;
  });
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BIGINT_MAX = 2n ** 63n - 1n;

/** The key as its query takes it, or undefined when it is not of `kind`. */
function cursorValue(kind: CursorKind, value: unknown): Date | bigint | string | undefined {
  if (typeof value !== "string") return undefined;
  switch (kind) {
    case "timestamp": {
      // Only what toISOString() writes: four-digit years stay within PostgreSQL's range,
      // and the round trip refuses 2026-02-30.
      const at = new Date(value);
      return ISO_INSTANT.test(value) && !Number.isNaN(at.getTime()) && at.toISOString() === value ? at : undefined;
    }
    case "uuid":
      return UUID.test(value) ? value : undefined;
    case "integer": {
      if (!/^\d{1,19}$/.test(value)) return undefined;
      const n = BigInt(value);
      return n <= BIGINT_MAX ? n : undefined;
    }
    case "text":
      return storableText(value) ? value : undefined;
  }
}

/** A string PostgreSQL's text can hold: no NUL, no lone surrogate. */
function storableText(value: unknown): value is string {
  return typeof value === "string" && !value.includes("\0") && value.isWellFormed();
}

/** The 400 for a cursor this listing did not issue (also for one whose keys do not parse). */
export function invalidCursor(): ProblemError {
  return new ProblemError(400, "Invalid request", "invalid cursor", [{ field: "query.cursor", reason: "not a cursor this listing issued" }]);
}

/**
 * Cuts rows fetched with `take: limit + 1` into a page: the extra row only tells that
 * another page exists.
 * @example return c.json(page(rows, limit, (r) => [r.createdAt.toISOString(), r.id], view), 200);
 */
export function page<Row, Item>(rows: Row[], limit: number, keyOf: (row: Row) => CursorKey[], view: (row: Row) => Item) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(view), nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
