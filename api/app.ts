import type { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { dashboardRoutes } from "../dashboard/routes.tsx";
import { AccountBusyError } from "../store/payments.ts";
import { requireAccess } from "./access.ts";
import { idempotency } from "./idempotency.ts";
import { accountActionRoutes } from "./routes/account-actions.ts";
import { agencyRoutes } from "./routes/agencies.ts";
import { apiKeyRoutes } from "./routes/api-keys.ts";
import { auditRoutes } from "./routes/audit.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { campaignRoutes } from "./routes/campaigns.ts";
import { complianceRoutes } from "./routes/compliance.ts";
import { docsRoutes } from "./routes/docs.ts";
import { healthRoutes } from "./routes/health.ts";
import { paymentRoutes } from "./routes/payments.ts";
import { placementRoutes } from "./routes/placements.ts";
import { templateRoutes } from "./routes/templates.ts";
import { IMPORT_PATH, importRoutes } from "./routes/imports.ts";
import { reportRoutes } from "./routes/reports.ts";
import { problem, ProblemError, unstorableTextProblems, validationProblem } from "./problem.ts";
import { router } from "./router.ts";
import type { ApiDeps } from "./types.ts";
import { agencyWebhookRoutes } from "./webhooks/agencies.ts";
import { paymentWebhookRoutes } from "./webhooks/payments.ts";
import { sendgridWebhookRoutes } from "./webhooks/sendgrid.ts";
import { twilioWebhookRoutes } from "./webhooks/twilio.ts";
import { twilioInboundRoutes } from "./webhooks/twilio-inbound.ts";
import { twilioVoiceRoutes } from "./webhooks/twilio-voice.ts";
import { unsubscribeRoutes } from "./routes/unsubscribe.ts";

export type App = OpenAPIHono;

/** The media types Hono's validator reads as JSON. */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** `\u0000` or a surrogate's escape (paired ones too): only then is a JSON body parsed for `unstorableTextProblems`. */
const UNSTORABLE_ESCAPE = /\\u(0000|d[89a-f])/i;

/**
 * The Tagih HTTP API: health, accounts, campaigns, agencies, keys, vendor webhooks, the
 * OpenAPI document and the managers' dashboard. Every request passes the access check (API
 * key and role, `access.ts`; the dashboard signs in with the same keys) before anything
 * else, then the body limit, then `Idempotency-Key` replays.
 * @example serve({ fetch: createApp(deps).fetch, port: 3000 })
 */
export function createApp(deps: ApiDeps): App {
  const app = router();
  app.use("*", requireAccess(deps.db, deps.logger));
  const maxBytes = deps.settings.maxBodyBytes;
  const tooLarge = (c: Context) => problem(c, 413, "Payload too large", `request bodies are limited to ${maxBytes} bytes`);
  const limit = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  app.use("*", async (c, next) => {
    // An import file is streamed, never held whole, so its size is not limited.
    if (c.req.path === IMPORT_PATH && c.req.method === "POST") return next();
    // A declared length is all there is to check (Node's parser reads no byte past it).
    // bodyLimit looks at the body stream first, which makes the Node adapter build a web
    // Request and stream for every request: about 40 % of the API's CPU per webhook.
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) return Number(length) > maxBytes ? tooLarge(c) : next();
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    return limit(c, next);
  });
  app.use("*", async (c, next) => {
    // PostgreSQL's text and jsonb cannot hold a NUL character or a lone surrogate: a JSON
    // body carrying one (it can only come escaped) is refused naming the field, where the
    // write would fail with a 500. Webhooks check their own bodies (checkCallback); an import
    // checks each row (its body, unlimited in size, is never read whole).
    if (c.req.path.startsWith("/v1/webhooks/") || c.req.path === IMPORT_PATH) return next();
    if (!JSON_MEDIA_TYPE.test(c.req.header("content-type")?.split(";")[0]?.trim() ?? "")) return next();
    const text = await c.req.text();
    if (!UNSTORABLE_ESCAPE.test(text)) return next();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return next(); // the route's validation names what is malformed
    }
    const unstorable = unstorableTextProblems(body);
    return unstorable.length > 0 ? validationProblem(c, unstorable) : next();
  });
  app.use("*", idempotency(deps.db));
  app.route("/", healthRoutes(deps));
  app.route("/", importRoutes(deps));
  app.route("/", accountRoutes(deps));
  app.route("/", accountActionRoutes(deps));
  app.route("/", campaignRoutes(deps));
  app.route("/", templateRoutes(deps));
  app.route("/", complianceRoutes(deps));
  app.route("/", twilioWebhookRoutes(deps));
  app.route("/", twilioInboundRoutes(deps));
  app.route("/", twilioVoiceRoutes(deps));
  app.route("/", sendgridWebhookRoutes(deps));
  app.route("/", unsubscribeRoutes(deps));
  app.route("/", agencyRoutes(deps));
  app.route("/", placementRoutes(deps));
  app.route("/", paymentRoutes(deps));
  app.route("/", apiKeyRoutes(deps));
  app.route("/", auditRoutes(deps));
  app.route("/", reportRoutes(deps));
  app.route("/", paymentWebhookRoutes(deps));
  app.route("/", agencyWebhookRoutes(deps));
  app.route("/", docsRoutes(app));
  app.route("/", dashboardRoutes(deps));

  app.notFound((c) => problem(c, 404, "Not found", `no route for ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    if (error instanceof ProblemError) return problem(c, error.status, error.title, error.message, error.errors);
    if (error instanceof HTTPException && error.status === 400) {
      // Hono's body parsers throw this for a body that is not the JSON it claims to be.
      return validationProblem(c, [{ field: "(body)", reason: error.message || "malformed request body" }]);
    }
    if (error instanceof HTTPException) return problem(c, error.status as 400, error.message || "Error", error.message);
    if (error instanceof AccountBusyError) {
      deps.logger.warn({ accountId: error.accountId, method: c.req.method, path: c.req.path }, "account busy: refused with 503");
      c.header("Retry-After", "5");
      return problem(c, 503, "Unavailable", error.message);
    }
    deps.logger.error({ err: error, method: c.req.method, path: c.req.path }, "request failed");
    return problem(c, 500, "Internal error", "the request failed; it has been logged");
  });
  return app;
}
