import { createRoute, z } from "@hono/zod-openapi";
import type { PaymentResolution } from "../../generated/prisma/client.ts";
import { assignPayment, dismissPayment, unmatchedPayments, type AccountSelector, type Settlement } from "../../store/payments.ts";
import { principalOf } from "../access.ts";
import { decodeCursor, page, pageOf, pageQuery } from "../pagination.ts";
import { ProblemError } from "../problem.ts";
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

const referenceParam = z.object({ reference: z.string().min(1).max(200) });

const resolution = z
  .object({
    reference: z.string(),
    status: z.enum(["assigned", "dismissed"]),
    accountId: z.string().nullable().describe("the account it was applied to (assigned)"),
    reason: z.string().nullable().describe("why it was dismissed"),
    resolvedAt: z.string(),
  })
  .openapi("PaymentResolution");

const resolved = (description: string) => ({ description, content: { "application/json": { schema: resolution } } });

const assign = createRoute({
  method: "post",
  path: "/v1/payments/unmatched/{reference}/assign",
  tags: ["payments"],
  summary: "Apply an unmatched payment to the account ops name, as a matched gateway payment is applied: recorded once, balance lowered, journeys told",
  request: {
    params: referenceParam,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z
            .object({ accountExternalId: z.string().min(1).max(200).optional(), accountId: z.uuid().optional() })
            .strict()
            .refine((a) => a.accountExternalId !== undefined || a.accountId !== undefined, {
              path: ["accountExternalId"],
              message: "accountExternalId or accountId is required",
            }),
        },
      },
    },
  },
  responses: {
    200: resolved("Assigned, or a repeat naming the same account (nothing changed)"),
    400: { description: "Malformed: the problem names every invalid field" },
    404: { description: "No gateway payment has this reference" },
    409: { description: "Already applied, dismissed, assigned to another account, or the reference was recorded with other details" },
    422: { description: "No such account, or the account is in another currency: the problem names the field" },
  },
});

const dismiss = createRoute({
  method: "post",
  path: "/v1/payments/unmatched/{reference}/dismiss",
  tags: ["payments"],
  summary: "Take an unmatched payment off the listing for good (refunded, not ours…), keeping it and the reason",
  request: {
    params: referenceParam,
    body: { required: true, content: { "application/json": { schema: z.object({ reason: z.string().trim().min(1).max(1000) }).strict() } } },
  },
  responses: {
    200: resolved("Dismissed, or a repeat (the first reason stays)"),
    400: { description: "Malformed: the problem names every invalid field" },
    404: { description: "No gateway payment has this reference" },
    409: { description: "Already applied or assigned" },
  },
});

const resolutionJson = (r: PaymentResolution) => ({
  reference: r.reference,
  status: r.status as "assigned" | "dismissed",
  accountId: r.accountId,
  reason: r.reason,
  resolvedAt: r.resolvedAt.toISOString(),
});

/** The resolution of a settled payment, or the problem why it could not be settled. */
function settled(reference: string, account: AccountSelector, outcome: Settlement): PaymentResolution {
  switch (outcome.status) {
    case "resolved":
      return outcome.resolution;
    case "unknown-reference":
      throw new ProblemError(404, "Not found", `no gateway payment ${reference}`);
    case "already-resolved": {
      const { status, accountId } = outcome.resolution;
      throw new ProblemError(409, "Conflict", `payment ${reference} was ${status === "assigned" ? `assigned to account ${accountId}` : "dismissed"}`);
    }
    case "already-applied":
      throw new ProblemError(409, "Conflict", `payment ${reference} was already applied to account ${outcome.accountId ?? "(unknown)"}`);
    case "conflict":
      throw new ProblemError(409, "Conflict", `payment ${reference} was recorded with another account, amount or currency`);
    case "no-account": {
      const fields = (["accountId", "accountExternalId"] as const).filter((f) => account[f] !== undefined);
      throw new ProblemError(
        422,
        "Unprocessable",
        `no account ${fields.map((f) => account[f]).join(" / ")}`,
        fields.map((field) => ({ field, reason: "no such account" })),
      );
    }
    case "currency-mismatch":
      throw new ProblemError(
        422,
        "Unprocessable",
        `payment ${reference} is in ${outcome.currency}, account ${outcome.accountId} in ${outcome.accountCurrency}`,
        [{ field: account.accountId !== undefined ? "accountId" : "accountExternalId", reason: `the account is in ${outcome.accountCurrency}` }],
      );
  }
}

export function paymentRoutes({ db, temporal, logger }: ApiDeps) {
  const app = router();
  app.openapi(listUnmatched, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor, ["timestamp", "uuid"]);
    const before = after && { receivedAt: after[0], id: after[1] };
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
  app.openapi(assign, async (c) => {
    const { reference } = c.req.valid("param");
    const account = c.req.valid("json");
    const outcome = await assignPayment({ db, temporal, logger }, { reference, account, actor: principalOf(c).keyId });
    return c.json(resolutionJson(settled(reference, account, outcome)), 200);
  });
  app.openapi(dismiss, async (c) => {
    const { reference } = c.req.valid("param");
    const { reason } = c.req.valid("json");
    const outcome = await dismissPayment(db, { reference, reason, actor: principalOf(c).keyId });
    return c.json(resolutionJson(settled(reference, {}, outcome)), 200);
  });
  return app;
}
