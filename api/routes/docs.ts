import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";

// Swagger UI is served from the installed package: browsers here cannot reach a CDN.
const swaggerDir = join(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"), "..");
const ASSETS: Record<string, string> = { "swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript" };

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tagih API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;

/** `/openapi.json` (OpenAPI 3.1, generated from the route definitions) and `/docs`. */
export function docsRoutes(api: OpenAPIHono) {
  const app = new Hono();
  app.get("/openapi.json", (c) =>
    c.json(
      api.getOpenAPI31Document({
        openapi: "3.1.0",
        info: { title: "Tagih API", version: "1", description: "Omnichannel outreach orchestration for debt collections." },
      }),
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
