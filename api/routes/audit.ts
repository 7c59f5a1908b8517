import { createRoute, z } from "@hono/zod-openapi";
import { decodeCursor, page, pageOf, pageQuery } from "../pagination.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

const entry = z
  .object({
    id: z.string(),
    actor: z.string().describe('the API key id, "system", or "debtor" (through an inbound message: `detail.messageSid` names it)'),
    action: z.string().describe("e.g. campaign.launch, api-key.revoke"),
    target: z.object({ type: z.string(), id: z.string().nullable() }),
    detail: z.unknown(),
    at: z.string(),
  })
  .openapi("AuditEntry");

const listAudit = createRoute({
  method: "get",
  path: "/v1/audit",
  tags: ["audit"],
  summary: "The audit log, newest first: who launched, paused, cancelled, changed keys…",
  request: { query: pageQuery.extend({ action: z.string().max(100).optional().openapi({ description: "only this action, e.g. campaign.launch" }) }) },
  responses: { 200: { description: "A page of entries", content: { "application/json": { schema: pageOf(entry) } } }, 400: { description: "Invalid query" } },
});

type EntryRow = Awaited<ReturnType<ApiDeps["db"]["auditEntry"]["findUniqueOrThrow"]>>;
const view = (e: EntryRow) => ({
  id: e.id,
  actor: e.actor,
  action: e.action,
  target: { type: e.targetType, id: e.targetId },
  detail: e.detail,
  at: e.at.toISOString(),
});

export function auditRoutes({ db }: ApiDeps) {
  const app = router();
  app.openapi(listAudit, async (c) => {
    const { limit, cursor, action } = c.req.valid("query");
    const after = decodeCursor(cursor, ["timestamp", "uuid"]);
    const rows = await db.auditEntry.findMany({
      where: {
        ...(action ? { action } : {}),
        ...(after ? { OR: [{ at: { lt: after[0] } }, { at: after[0], id: { lt: after[1] } }] } : {}),
      },
      orderBy: [{ at: "desc" }, { id: "desc" }],
      take: limit + 1,
    });
    return c.json(
      page(rows, limit, (e) => [e.at.toISOString(), e.id], view),
      200,
    );
  });
  return app;
}
