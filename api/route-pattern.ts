/** An HTTP method as the API's tables name it. */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A table entry: a method and an OpenAPI path pattern (`/v1/campaigns/{id}`, or `/dashboard/*` for anything below). */
export interface RoutePattern {
  method: Method;
  path: string;
}

const segmentsOf = (path: string) => path.split("/").filter(Boolean);

/**
 * Whether a concrete path matches a pattern: `{name}` matches one segment, a final `*` one or
 * more further segments.
 * @example matchesPattern("/v1/campaigns/{id}", "/v1/campaigns/4c1…") // true
 */
export function matchesPattern(pattern: string, path: string): boolean {
  const want = segmentsOf(pattern);
  const have = segmentsOf(path);
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const h = have[i];
    if (h === undefined) return false;
    if (w === "*" && i === want.length - 1) return true;
    if (!(w.startsWith("{") && w.endsWith("}")) && w !== h) return false;
  }
  return have.length === want.length;
}

// More literal segments first: `/v1/accounts/import` wins over `/v1/accounts/{id}`.
const literalSegments = (pattern: string) => segmentsOf(pattern).filter((s) => !s.startsWith("{") && s !== "*").length;

/**
 * The most specific entry of `table` for a request, or undefined.
 * @example findRoute(ACCESS, "POST", "/v1/campaigns/4c1…/launch")?.path // "/v1/campaigns/{id}/launch"
 */
export function findRoute<T extends RoutePattern>(table: readonly T[], method: string, path: string): T | undefined {
  let best: T | undefined;
  for (const entry of table) {
    if (entry.method !== method.toUpperCase() || !matchesPattern(entry.path, path)) continue;
    if (!best || literalSegments(entry.path) > literalSegments(best.path)) best = entry;
  }
  return best;
}
