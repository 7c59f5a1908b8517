import { createRoute, z } from "@hono/zod-openapi";
import { principalOf } from "../access.ts";
import { decodeCursor, page, pageOf, pageQuery } from "../pagination.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

const placement = z
  .object({
    id: z.string(),
    agencyId: z.string(),
    accountId: z.string(),
    enrolmentId: z.string().nullable(),
    stepId: z.string().nullable(),
    amountMinor: z.string().describe("in minor units, as a decimal string"),
    currency: z.string(),
    status: z.string().describe("placed, acknowledged, recalled or closed"),
    placedAt: z.string(),
    acknowledgedAt: z.string().nullable(),
    recalledAt: z.string().nullable(),
    closedAt: z.string().nullable(),
    closeReason: z.string().nullable().describe("why the agency must stop working the account: paid, cancelled or hold:<kind>"),
    closeNotifiedAt: z.string().nullable().describe("when the agency acknowledged the closure notice"),
  })
  .openapi("Placement");

const listPlacements = createRoute({
  method: "get",
  path: "/v1/placements",
  tags: ["agencies"],
  summary: "Accounts placed with agencies, newest first; an agency's key sees only its own",
  request: {
    query: pageQuery.extend({ agencyId: z.uuid().optional().openapi({ description: "only this agency's (an agency key is always limited to its own)" }) }),
  },
  responses: {
    200: { description: "A page of placements", content: { "application/json": { schema: pageOf(placement) } } },
    400: { description: "Invalid query" },
  },
});

type PlacementRow = Awaited<ReturnType<ApiDeps["db"]["placement"]["findUniqueOrThrow"]>>;
const view = (p: PlacementRow) => ({
  id: p.id,
  agencyId: p.agencyId,
  accountId: p.accountId,
  enrolmentId: p.enrolmentId,
  stepId: p.stepId,
  amountMinor: p.amountMinor.toString(),
  currency: p.currency,
  status: p.status,
  placedAt: p.placedAt.toISOString(),
  acknowledgedAt: p.acknowledgedAt?.toISOString() ?? null,
  recalledAt: p.recalledAt?.toISOString() ?? null,
  closedAt: p.closedAt?.toISOString() ?? null,
  closeReason: p.closeReason,
  closeNotifiedAt: p.closeNotifiedAt?.toISOString() ?? null,
});

export function placementRoutes({ db }: ApiDeps) {
  const app = router();
  app.openapi(listPlacements, async (c) => {
    const { limit, cursor, agencyId } = c.req.valid("query");
    const principal = principalOf(c);
    // An agency key asking for another agency's placements gets an empty page, not theirs.
    const agencies = [principal.role === "agency" ? principal.agencyId : undefined, agencyId].filter((a): a is string => Boolean(a));
    const after = decodeCursor(cursor, ["timestamp", "uuid"]);
    const rows = await db.placement.findMany({
      where: {
        AND: [
          ...agencies.map((id) => ({ agencyId: id })),
          ...(after ? [{ OR: [{ placedAt: { lt: after[0] } }, { placedAt: after[0], id: { lt: after[1] } }] }] : []),
        ],
      },
      orderBy: [{ placedAt: "desc" }, { id: "desc" }],
      take: limit + 1,
    });
    return c.json(
      page(rows, limit, (p) => [p.placedAt.toISOString(), p.id], view),
      200,
    );
  });
  return app;
}
