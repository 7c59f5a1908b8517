/** An HTTP method as the API's tables name it. */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A table entry: a method and an OpenAPI path pattern (`/v1/campaigns/{id}`, or `/dashboard/*` for anything below). */
export interface RoutePattern {
  method: Method;
  path: string;
}

const segmentsOf = (path: string) => path.split("/").filter(Boolean);

/**
 * A test of whether a concrete path matches any of `patterns`, each split once: `{name}`
 * matches one segment, a final `*` one or more further segments.
 * @example matcherOf(["/healthz", "/v1/campaigns/{id}"])("/v1/campaigns/4c1…") // true
 */
export function matcherOf(patterns: readonly string[]): (path: string) => boolean {
  const split = patterns.map(segmentsOf);
  return (path) => {
    const have = segmentsOf(path);
    return split.some((want) => matchesSegments(want, have));
  };
}

function matchesSegments(want: readonly string[], have: readonly string[]): boolean {
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const h = have[i];
    if (h === undefined) return false;
    if (w === "*" && i === want.length - 1) return true;
    if (!(w.startsWith("{") && w.endsWith("}")) && w !== h) return false;
  }
  return have.length === want.length;
}

interface Compiled {
  entry: RoutePattern;
  segments: string[];
  /** More literal segments first: `/v1/accounts/import` wins over `/v1/accounts/{id}`. */
  literals: number;
}

// Every request looks up two tables: their patterns are split once, not per request.
const compiledTables = new WeakMap<readonly RoutePattern[], Compiled[]>();

function compiled(table: readonly RoutePattern[]): Compiled[] {
  let entries = compiledTables.get(table);
  if (!entries) {
    entries = table.map((entry) => {
      const segments = segmentsOf(entry.path);
      return { entry, segments, literals: segments.filter((s) => !s.startsWith("{") && s !== "*").length };
    });
    compiledTables.set(table, entries);
  }
  return entries;
}

/**
 * The most specific entry of `table` for a request, or undefined.
 * @example findRoute(ACCESS, "POST", "/v1/campaigns/4c1…/launch")?.path // "/v1/campaigns/{id}/launch"
 */
export function findRoute<T extends RoutePattern>(table: readonly T[], method: string, path: string): T | undefined {
  const have = segmentsOf(path);
  const wanted = method.toUpperCase();
  let best: Compiled | undefined;
  for (const candidate of compiled(table)) {
    if (candidate.entry.method !== wanted || !matchesSegments(candidate.segments, have)) continue;
    if (!best || candidate.literals > best.literals) best = candidate;
  }
  return best?.entry as T | undefined;
}
