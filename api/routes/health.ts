import { createRoute, z } from "@hono/zod-openapi";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

const healthz = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["health"],
  summary: "The process is up",
  responses: { 200: { description: "Up", content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } } } },
});

const readyz = createRoute({
  method: "get",
  path: "/readyz",
  tags: ["health"],
  summary: "PostgreSQL and Temporal are reachable",
  responses: {
    200: { description: "Ready", content: { "application/json": { schema: z.object({ status: z.string(), database: z.string(), temporal: z.string() }) } } },
    503: {
      description: "A dependency is unreachable",
      content: { "application/json": { schema: z.object({ status: z.string(), database: z.string(), temporal: z.string() }) } },
    },
  },
});

export function healthRoutes({ db, temporal }: ApiDeps) {
  const app = router();
  app.openapi(healthz, (c) => c.json({ status: "ok" as const }, 200));
  app.openapi(readyz, async (c) => {
    const check = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: unknown) => `unreachable: ${e instanceof Error ? e.message : String(e)}`,
      );
    const [database, temporalStatus] = await Promise.all([check(db.$queryRaw`SELECT 1`), check(temporal.connection.workflowService.getSystemInfo({}))]);
    const ready = database === "ok" && temporalStatus === "ok";
    return c.json({ status: ready ? "ready" : "not ready", database, temporal: temporalStatus }, ready ? 200 : 503);
  });
  return app;
}
