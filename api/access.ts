import type { Context, MiddlewareHandler } from "hono";
import type { Database } from "../runtime/database.ts";
import type { Logger } from "../runtime/logger.ts";
import { findPrincipal, type Principal, type Role } from "../store/api-keys.ts";
import { problem } from "./problem.ts";
import { findRoute, matcherOf, type Method, type RoutePattern } from "./route-pattern.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** The API key behind the request; set on every route that is not public. */
    principal: Principal;
  }
}

/** Who may call a route. */
export interface AccessRule extends RoutePattern {
  roles: readonly Role[];
}

const ADMIN: readonly Role[] = ["admin"];
const OPERATE: readonly Role[] = ["admin", "ops"];
const READ: readonly Role[] = ["admin", "ops", "manager"];
const PLACEMENTS: readonly Role[] = ["admin", "ops", "manager", "agency"];

const rule = (method: Method, path: string, roles: readonly Role[]): AccessRule => ({ method, path, roles });

/**
 * Every route that needs an API key, with the roles allowed. A route missing here is refused
 * (403) to every key, so a new route is never open by accident: add it when you add the route.
 * `admin` may do everything; `ops` everything but keys and the audit log; `manager` reads;
 * `agency` reads its own placements (and calls back through its signed webhook).
 */
export const ACCESS: readonly AccessRule[] = [
  // Accounts and their actions
  rule("POST", "/v1/accounts", OPERATE),
  // Debtors' names, phones and emails: those who work accounts, not those who read the numbers.
  rule("GET", "/v1/accounts", OPERATE),
  rule("GET", "/v1/accounts/{id}", OPERATE),
  rule("POST", "/v1/accounts/import", OPERATE),
  rule("GET", "/v1/accounts/{id}/compliance", READ),
  rule("GET", "/v1/accounts/{id}/decisions", READ),
  rule("POST", "/v1/accounts/{id}/holds", OPERATE),
  rule("DELETE", "/v1/accounts/{id}/holds/{kind}", OPERATE),
  rule("POST", "/v1/accounts/{id}/opt-outs", OPERATE),
  rule("DELETE", "/v1/accounts/{id}/opt-outs/{channel}", OPERATE),
  rule("POST", "/v1/accounts/{id}/promises", OPERATE),
  rule("POST", "/v1/accounts/{id}/payments", OPERATE),
  rule("GET", "/v1/payments/unmatched", OPERATE),
  rule("POST", "/v1/payments/unmatched/{reference}/assign", OPERATE),
  rule("POST", "/v1/payments/unmatched/{reference}/dismiss", OPERATE),
  rule("GET", "/v1/imports", READ),
  rule("GET", "/v1/imports/{id}", READ),
  rule("GET", "/v1/imports/{id}/rejections", READ),
  // Compliance what-if: a POST that reads, but managers are read-only by method.
  rule("POST", "/v1/compliance/evaluate", OPERATE),
  rule("GET", "/v1/compliance/policies/{jurisdiction}", READ),
  // Campaigns
  rule("GET", "/v1/campaigns", READ),
  rule("POST", "/v1/campaigns", OPERATE),
  rule("GET", "/v1/campaigns/{id}", READ),
  rule("PATCH", "/v1/campaigns/{id}", OPERATE),
  rule("POST", "/v1/campaigns/{id}/launch", OPERATE),
  rule("POST", "/v1/campaigns/{id}/pause", OPERATE),
  rule("POST", "/v1/campaigns/{id}/resume", OPERATE),
  rule("POST", "/v1/campaigns/{id}/cancel", OPERATE),
  rule("GET", "/v1/campaigns/{id}/summary", READ),
  rule("DELETE", "/v1/campaigns/{id}", OPERATE),
  rule("GET", "/v1/templates", READ),
  rule("POST", "/v1/templates", OPERATE),
  rule("GET", "/v1/templates/{name}/{channel}/{locale}", READ),
  // Previews write nothing, but render an account's personal data: as reading accounts.
  rule("POST", "/v1/templates/preview", OPERATE),
  rule("POST", "/v1/templates/{name}/{channel}/{locale}/preview", OPERATE),
  rule("GET", "/v1/campaigns/{id}/report", READ),
  rule("GET", "/v1/campaigns/{id}/report/variants", READ),
  rule("GET", "/v1/reports/roll-rates", READ),
  rule("GET", "/v1/reports/cure", READ),
  rule("GET", "/v1/reports/agencies", READ),
  // Lists phone numbers: personal data for those who work the accounts, not for managers.
  rule("GET", "/v1/reports/shared-phones", OPERATE),
  rule("POST", "/v1/reports/snapshots", OPERATE),
  rule("GET", "/v1/reports/settings", READ),
  // Reporting zone, SLA and unit costs change every figure managers read: admins set them.
  rule("PUT", "/v1/reports/settings", ADMIN),
  rule("GET", "/v1/reports/unit-costs", READ),
  rule("POST", "/v1/reports/unit-costs", ADMIN),
  // Agencies and their placements
  rule("POST", "/v1/agencies", OPERATE),
  rule("GET", "/v1/agencies", READ),
  // Callback credentials are keys: managed by admins, as API keys are.
  rule("POST", "/v1/agencies/{id}/credentials", ADMIN),
  rule("DELETE", "/v1/agencies/{id}/credentials", ADMIN),
  rule("GET", "/v1/placements", PLACEMENTS),
  // Keys and the audit log
  rule("POST", "/v1/api-keys", ADMIN),
  rule("GET", "/v1/api-keys", ADMIN),
  rule("DELETE", "/v1/api-keys/{id}", ADMIN),
  rule("GET", "/v1/audit", ADMIN),
  // The managers' dashboard (pages, assets)
  rule("GET", "/dashboard", READ),
  rule("GET", "/dashboard/*", READ),
];

/**
 * Paths this middleware lets through without a bearer key: health, the API's description,
 * vendor webhooks (they authenticate by the vendor's signature), unsubscribe links (signed
 * by HMAC) and the dashboard (a key cookie, checked by the dashboard).
 */
export const PUBLIC_PATHS: readonly string[] = [
  "/healthz",
  "/readyz",
  "/openapi.json",
  "/docs",
  "/docs/*",
  "/v1/webhooks/*",
  "/v1/unsubscribe/*",
  // Browsers send the dashboard's key as a cookie: dashboard/auth.ts checks it against the
  // `/dashboard` rules above, and sends the signed-out to its sign-in page.
  "/dashboard",
  "/dashboard/*",
];

export const isPublicPath: (path: string) => boolean = matcherOf(PUBLIC_PATHS);

// HEAD is a GET without the body; Hono serves it from the GET route.
const METHODS: readonly Method[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

const tableMethod = (method: string) => (method.toUpperCase() === "HEAD" ? "GET" : method.toUpperCase());

/**
 * The access rule for a request, or undefined when no rule lists it.
 * @example accessRule("GET", "/v1/campaigns/4c1…")?.roles // ["admin", "ops", "manager"]
 */
export function accessRule(method: string, path: string): AccessRule | undefined {
  return findRoute(ACCESS, tableMethod(method), path);
}

/**
 * The principal of an `Authorization` header (`Bearer <key>`), or undefined when it is
 * missing, malformed, unknown or revoked.
 * @example const principal = await authenticate(db, c.req.header("authorization"));
 */
export async function authenticate(db: Database, header: string | undefined): Promise<Principal | undefined> {
  const key = /^Bearer +(\S{1,500}) *$/i.exec(header ?? "")?.[1];
  if (!key) return undefined;
  return findPrincipal(db, key);
}

/**
 * The principal set by `requireAccess`; for handlers of routes that are not public.
 * @example const { keyId } = principalOf(c);
 */
export function principalOf(c: Context): Principal {
  const principal = c.get("principal") as Principal | undefined;
  if (!principal) throw new Error(`no principal on ${c.req.method} ${c.req.path}: is the route public?`);
  return principal;
}

// `last_used_at` is informative: written at most once a minute per key, off the request's path.
const LAST_USED_EVERY_MS = 60_000;

/**
 * Authenticates every non-public request (401 with `WWW-Authenticate: Bearer`) and checks its
 * role against `ACCESS` (403), then puts the principal on the context.
 * @example app.use("*", requireAccess(db, logger));
 */
export function requireAccess(db: Database, logger: Logger): MiddlewareHandler {
  const lastUsedWritten = new Map<string, number>();
  return async (c, next) => {
    if (isPublicPath(c.req.path)) return next();
    const principal = await authenticate(db, c.req.header("authorization"));
    if (!principal) {
      const response = problem(c, 401, "Unauthorized", "send a valid API key: Authorization: Bearer <key>");
      response.headers.set("WWW-Authenticate", 'Bearer realm="tagih"');
      return response;
    }
    const allowed = accessRule(c.req.method, c.req.path);
    // Nothing is served there: a typo'd path or method is told so, not refused by role.
    if (!allowed) {
      const methods = METHODS.filter((m) => accessRule(m, c.req.path));
      if (methods.length === 0) return problem(c, 404, "Not found", `no route ${c.req.path}`);
      const response = problem(c, 405, "Method not allowed", `${c.req.path} takes ${methods.join(", ")}, not ${c.req.method}`);
      response.headers.set("Allow", methods.join(", "));
      return response;
    }
    if (!allowed.roles.includes(principal.role)) {
      logger.warn({ keyId: principal.keyId, role: principal.role, method: c.req.method, path: c.req.path }, "refused a request");
      return problem(c, 403, "Forbidden", `the ${principal.role} role may not ${c.req.method} ${allowed.path}`);
    }
    c.set("principal", principal);
    const now = Date.now();
    if (now - (lastUsedWritten.get(principal.keyId) ?? 0) > LAST_USED_EVERY_MS) {
      lastUsedWritten.set(principal.keyId, now);
      db.apiKey
        .update({ where: { id: principal.keyId }, data: { lastUsedAt: new Date(now) } })
        .catch((error: unknown) => logger.warn({ err: error, keyId: principal.keyId }, "could not record when an API key was used"));
    }
    return next();
  };
}
