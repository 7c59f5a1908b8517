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

/** Encodes the sort key of the last item of a page as an opaque cursor. */
export function encodeCursor(key: CursorKey[]): string {
  return Buffer.from(JSON.stringify({ k: key })).toString("base64url");
}

/**
 * Decodes `?cursor=`, checking it carries `arity` keys; a forged or stale cursor is a 400
 * naming the field.
 * @example const after = decodeCursor(query.cursor, 2); // [createdAt ISO, id] | undefined
 */
export function decodeCursor(cursor: string | undefined, arity: number): CursorKey[] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const { k } = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { k?: unknown };
    if (Array.isArray(k) && k.length === arity && k.every((v) => typeof v === "string" || typeof v === "number")) return k as CursorKey[];
  } catch {
    // falls through to the 400 below
  }
  throw invalidCursor();
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
