import { createHash } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Database } from "../runtime/database.ts";
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey, type IdempotencyClaim, type IdempotencyScope } from "../store/idempotency.ts";
import { problem, ProblemError } from "./problem.ts";
import { findRoute, type RoutePattern } from "./route-pattern.ts";

export const IDEMPOTENCY_HEADER = "Idempotency-Key";

/**
 * Routes that honour `Idempotency-Key`: JSON-bodied requests that create or start something.
 * Add a route here to give it replays. (The streamed import uses the store functions itself.)
 */
export const IDEMPOTENT_ROUTES: readonly RoutePattern[] = [
  { method: "POST", path: "/v1/accounts" },
  { method: "POST", path: "/v1/campaigns" },
  { method: "POST", path: "/v1/campaigns/{id}/launch" },
  { method: "POST", path: "/v1/agencies" },
  { method: "POST", path: "/v1/api-keys" },
  { method: "POST", path: "/v1/templates" },
];

// Printable ASCII, as Stripe and the IETF draft allow; long enough for a UUID or a hash.
const KEY = /^[\x20-\x7e]{1,255}$/;

/**
 * Replays the first response to a retry with the same `Idempotency-Key` and request (with
 * `Idempotent-Replayed: true`); the same key with another request is a 422, and while the first
 * request is still running a 409. A 5xx or an exception releases the key so the retry runs
 * again. Keys are per principal and route; requests without the header run as usual.
 * @example app.use("*", idempotency(db)); // after requireAccess, which sets the principal
 */
export function idempotency(db: Database, routes: readonly RoutePattern[] = IDEMPOTENT_ROUTES): MiddlewareHandler {
  return async (c, next) => {
    const route = findRoute(routes, c.req.method, c.req.path);
    if (!route) return next();
    const claim = idempotencyClaim(c, route);
    if (!claim) return next();
    // Hono keeps the body it read, so the route's validator reads the same bytes again.
    const fingerprint = requestFingerprint(
      c,
      createHash("sha256")
        .update(await c.req.text())
        .digest("hex"),
    );
    const claimed = await claimIdempotencyKey(db, claim);
    if (claimed.state !== "new") return answerClaimed(c, claimed, fingerprint);

    try {
      await next();
    } catch (error) {
      await releaseIdempotencyKey(db, claim);
      throw error;
    }
    if (c.res.status >= 500) {
      await releaseIdempotencyKey(db, claim);
      return;
    }
    await completeIdempotencyKey(db, { ...claim, fingerprint, status: c.res.status, body: await c.res.clone().text() });
  };
}

/**
 * The key and scope of a request's `Idempotency-Key` (per principal and route), undefined
 * without the header; a malformed key is a 400 naming the header.
 */
export function idempotencyClaim(c: Context, route: RoutePattern): IdempotencyScope | undefined {
  const key = c.req.header(IDEMPOTENCY_HEADER);
  if (key === undefined) return undefined;
  if (!KEY.test(key)) {
    throw new ProblemError(400, "Invalid request", `invalid header.${IDEMPOTENCY_HEADER}`, [
      { field: `header.${IDEMPOTENCY_HEADER}`, reason: "must be 1 to 255 printable ASCII characters" },
    ]);
  }
  return { key, scope: `${c.get("principal").keyId}:${route.method} ${route.path}` };
}

/**
 * What a replay must match besides the body's SHA-256 (hex): the concrete path (a launch
 * names its campaign there; the key's scope holds only the pattern), the query string
 * (`?mode=all-or-nothing`) and Content-Type (`charset=utf-16le`), as each changes what the
 * same bytes mean. Query parameters are sorted and the Content-Type lowercased without
 * spaces, so spellings of one request match.
 * @example requestFingerprint(c, createHash("sha256").update(body).digest("hex"))
 */
export function requestFingerprint(c: Context, bodySha256: string): string {
  const query = new URL(c.req.url).searchParams;
  query.sort();
  const contentType = (c.req.header("content-type") ?? "").toLowerCase().replace(/\s+/g, "");
  return createHash("sha256")
    .update(JSON.stringify([c.req.path, query.toString(), contentType, bodySha256]))
    .digest("hex");
}

/** The answer to a key already claimed: 409 while the first request runs, else its replay (or 422 for another request). */
export function answerClaimed(c: Context, claimed: Exclude<IdempotencyClaim, { state: "new" }>, fingerprint: string): Response {
  const key = c.req.header(IDEMPOTENCY_HEADER);
  if (claimed.state === "in-progress") return problem(c, 409, "Conflict", `a request with ${IDEMPOTENCY_HEADER} ${key} is still in progress; retry later`);
  if (claimed.fingerprint !== fingerprint) {
    return problem(c, 422, "Unprocessable", `${IDEMPOTENCY_HEADER} ${key} was used with another request (body, path, query or content type)`, [
      { field: `header.${IDEMPOTENCY_HEADER}`, reason: "was used with another request; use a new key for a new request" },
    ]);
  }
  return c.body(claimed.body, claimed.status as ContentfulStatusCode, {
    "Content-Type": claimed.status >= 400 ? "application/problem+json" : "application/json",
    "Idempotent-Replayed": "true",
  });
}
