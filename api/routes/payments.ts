import { createRoute, z } from "@hono/zod-openapi";
import { unmatchedPayments } from "../../store/payments.ts";
import { decodeCursor, invalidCursor, page, pageOf, pageQuery } from "../pagination.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

const unmatched = z
  .object({
    reference: z.string(),
    accountExternalId: z.string().nullable(),
    accountId: z.string().nullable(),
    amountMinor: z.string().describe("in minor units, as a decimal string"),
    currency: z.string(),
    paidAt: z.string().nullable(),
    receivedAt: z.string(),
  })
  .openapi("UnmatchedPayment");

const listUnmatched = createRoute({
  method: "get",
  path: "/v1/payments/unmatched",
  tags: ["payments"],
  summary: "Gateway payments no account matches yet, newest first; each is applied once its account is created or imported",
  request: { query: pageQuery },
  responses: {
    200: { description: "A page of unmatched payments", content: { "application/json": { schema: pageOf(unmatched) } } },
    400: { description: "Invalid query" },
  },
});

export function paymentRoutes({ db }: ApiDeps) {
  const app = router();
  app.openapi(listUnmatched, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor, 2);
    const before = after && { receivedAt: new Date(String(after[0])), id: String(after[1]) };
    if (before && (Number.isNaN(before.receivedAt.getTime()) || !z.uuid().safeParse(before.id).success)) throw invalidCursor();
    const rows = await unmatchedPayments(db, limit + 1, before);
    return c.json(
      page(
        rows,
        limit,
        (r) => [r.received_at.toISOString(), r.id],
        ({ payload: p, received_at }) => ({
          reference: p.reference,
          accountExternalId: p.accountExternalId ?? null,
          accountId: p.accountId ?? null,
          amountMinor: String(p.amountMinor),
          currency: p.currency,
          paidAt: p.paidAt ?? null,
          receivedAt: received_at.toISOString(),
        }),
      ),
      200,
    );
  });
  return app;
}
