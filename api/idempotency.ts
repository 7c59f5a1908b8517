import { createHash } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Database } from "../runtime/database.ts";
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey, type IdempotencyClaim, type IdempotencyScope } from "../store/idempotency.ts";
import { problem, ProblemError, type Problem } from "./problem.ts";
import { findRoute, type RoutePattern } from "./route-pattern.ts";

export const IDEMPOTENCY_HEADER = "Idempotency-Key";

/**
 * A route whose success answer carries a secret shown once (an API key, an HMAC secret).
 * Its answer is never stored: a retry learns what the first request created, not the secret.
 */
export interface SecretAnswer {
  /** What the first request created, as the replay names it ("API key"). */
  created: string;
  /** What became of the secrets ("its key was shown once, in that answer, and is never shown again"). */
  shown: string;
  /** What to do when the first answer was lost; `{id}` is the created thing's id. */
  ifLost: string;
}

export interface IdempotentRoute extends RoutePattern {
  secret?: SecretAnswer;
}

/**
 * Routes that honour `Idempotency-Key`: JSON-bodied requests that create or start something.
 * Add a route here to give it replays. (The streamed import uses the store functions itself.)
 */
export const IDEMPOTENT_ROUTES: readonly IdempotentRoute[] = [
  { method: "POST", path: "/v1/accounts" },
  { method: "POST", path: "/v1/campaigns" },
  { method: "POST", path: "/v1/campaigns/{id}/launch" },
  {
    method: "POST",
    path: "/v1/agencies",
    secret: {
      created: "agency",
      shown: "its apiKey and secret were shown once, in that answer, and are never shown again",
      ifLost: "an admin rotates its credentials (POST /v1/agencies/{id}/credentials) and gives the agency the new ones",
    },
  },
  {
    method: "POST",
    path: "/v1/api-keys",
    secret: {
      created: "API key",
      shown: "its key was shown once, in that answer, and is never shown again",
      ifLost: "revoke it (DELETE /v1/api-keys/{id}) and create another",
    },
  },
  { method: "POST", path: "/v1/templates" },
];

// Printable ASCII, as Stripe and the IETF draft allow; long enough for a UUID or a hash.
const KEY = /^[\x20-\x7e]{1,255}$/;

/**
 * Replays the first response to a retry with the same `Idempotency-Key` and request (with
 * `Idempotent-Replayed: true`); the same key with another request is a 422, and while the first
 * request is still running a 409. A 5xx or an exception releases the key so the retry runs
 * again. Keys are per principal and route; requests without the header run as usual.
 * A route with a `secret` answer keeps, for a success, only the 409 its retries get (see
 * `secretReplay`): the secret is never written to `idempotency_keys`.
 * @example app.use("*", idempotency(db)); // after requireAccess, which sets the principal
 */
export function idempotency(db: Database, routes: readonly IdempotentRoute[] = IDEMPOTENT_ROUTES): MiddlewareHandler {
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
    const answer =
      route.secret && c.res.ok ? secretReplay(c, route.secret, await c.res.clone().text()) : { status: c.res.status, body: await c.res.clone().text() };
    await completeIdempotencyKey(db, { ...claim, fingerprint, ...answer });
  };
}

/**
 * What a retry of a request that created a secret gets instead of the first answer: a 409
 * naming what was created (its `id`, also as an extension member) and that the secret was
 * shown once. Only this is stored, so the database never holds the secret for 24 hours and
 * a replay (or anyone reading the table) cannot show it again.
 * @example secretReplay(c, route.secret, '{"id":"…","key":"tagih_ops_…"}') // { status: 409, body: '{"type":…,"id":"…"}' }
 */
export function secretReplay(c: Context, secret: SecretAnswer, firstAnswer: string): { status: number; body: string } {
  let id: string | undefined;
  try {
    const parsed = JSON.parse(firstAnswer) as { id?: unknown };
    if (typeof parsed.id === "string") id = parsed.id;
  } catch {
    // Without an id the replay still says what happened, only not to what.
  }
  const created = id === undefined ? secret.created : `${secret.created} ${id}`;
  const detail =
    `${created} was created by the first request with ${IDEMPOTENCY_HEADER} ${c.req.header(IDEMPOTENCY_HEADER)}; ` +
    `${secret.shown}. If that answer was lost, ${secret.ifLost.replaceAll("{id}", id ?? "{id}")}.`;
  const body = {
    type: "https://tagih.dev/problems/conflict",
    title: "Conflict",
    status: 409,
    detail,
    ...(id === undefined ? {} : { id }),
  } satisfies Problem & {
    id?: string;
  };
  return { status: 409, body: JSON.stringify(body) };
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
