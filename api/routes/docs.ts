import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import { accessRule, isPublicPath } from "../access.ts";
import { IDEMPOTENCY_HEADER, IDEMPOTENT_ROUTES } from "../idempotency.ts";
import { findRoute } from "../route-pattern.ts";
import { IMPORT_PATH } from "./imports.ts";

// Swagger UI is served from the installed package: browsers here cannot reach a CDN.
const swaggerDir = join(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"), "..");
const ASSETS: Record<string, string> = { "swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript" };

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tagih API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;

type Document = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;
type Operation = { security?: unknown[]; description?: string; parameters?: unknown[]; responses?: Record<string, unknown> };

/**
 * Writes the access table and idempotency into the document, so `/docs` can send a key and
 * shows who may call what: public operations need no key, the others list their roles.
 */
function describeAccess(doc: Document): Document {
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, value] of Object.entries(item as Record<string, Operation>)) {
      const operation = value;
      if (isPublicPath(path)) {
        // Vendor webhooks name the signature they are checked by; other public paths need nothing.
        operation.security ??= [];
        continue;
      }
      const roles = accessRule(method, path)?.roles ?? [];
      operation.description = [operation.description, `**Roles:** ${roles.length ? roles.join(", ") : "none (not in the access table)"}.`]
        .filter(Boolean)
        .join("\n\n");
      operation.responses = {
        ...operation.responses,
        401: { description: "No API key, or an unknown or revoked one" },
        403: { description: "The key's role may not call this" },
      };
      // The streamed import claims its key itself (see IMPORT_PATH's route).
      const idempotent = findRoute(IDEMPOTENT_ROUTES, method, path);
      if (idempotent || (method === "post" && path === IMPORT_PATH)) {
        const replay = idempotent?.secret
          ? "gets 409 naming the `id` it created (`Idempotent-Replayed: true`; the secrets are shown in the first answer only and never kept for a replay)"
          : "gets the first response again (`Idempotent-Replayed: true`)";
        operation.parameters = [
          ...(operation.parameters ?? []),
          {
            name: IDEMPOTENCY_HEADER,
            in: "header",
            required: false,
            description: `1–255 printable characters. A retry of the same request (body, path, query string, Content-Type) ${replay} for 24 hours; another request under the key gets 422; while the first request runs, 409.`,
            schema: { type: "string", minLength: 1, maxLength: 255 },
          },
        ];
      }
    }
  }
  return doc;
}

/** `/openapi.json` (OpenAPI 3.1, generated from the route definitions) and `/docs`. */
export function docsRoutes(api: OpenAPIHono) {
  const app = new Hono();
  api.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "An API key: `Authorization: Bearer tagih_…`",
  });
  // How vendors sign their webhooks (checked over the raw body; see each webhook's description).
  api.openAPIRegistry.registerComponent("securitySchemes", "twilioSignature", {
    type: "apiKey",
    in: "header",
    name: "X-Twilio-Signature",
    description: "Twilio's HMAC-SHA1 (base64) of PUBLIC_BASE_URL plus the path and query, followed by the sorted form parameters, keyed by TWILIO_AUTH_TOKEN.",
  });
  api.openAPIRegistry.registerComponent("securitySchemes", "sendgridSignature", {
    type: "apiKey",
    in: "header",
    name: "X-Twilio-Email-Event-Webhook-Signature",
    description:
      "SendGrid's signed event webhook: ECDSA P-256 over X-Twilio-Email-Event-Webhook-Timestamp plus the raw body, verified with SENDGRID_WEBHOOK_PUBLIC_KEY.",
  });
  api.openAPIRegistry.registerComponent("securitySchemes", "tagihSignature", {
    type: "apiKey",
    in: "header",
    name: "X-Tagih-Signature",
    description: '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with the shared secret (payment gateway, agency).',
  });
  app.get("/openapi.json", (c) =>
    c.json(
      describeAccess(
        api.getOpenAPI31Document({
          openapi: "3.1.0",
          info: { title: "Tagih API", version: "1", description: "Omnichannel outreach orchestration for debt collections." },
          security: [{ apiKey: [] }],
        }),
      ),
    ),
  );
  app.get("/docs", (c) => c.html(PAGE));
  app.get("/docs/init.js", (c) => c.body('SwaggerUIBundle({ url: "/openapi.json", dom_id: "#ui" });', 200, { "Content-Type": "text/javascript" }));
  app.get("/docs/:asset", async (c) => {
    const type = ASSETS[c.req.param("asset")];
    if (!type) return c.notFound();
    return c.body(await readFile(join(swaggerDir, c.req.param("asset"))), 200, { "Content-Type": type, "Cache-Control": "public, max-age=86400" });
  });
  return app;
}
