import { z } from "@hono/zod-openapi";
import type { Prisma } from "../../generated/prisma/client.ts";
import { currencyCodeSchema, minorAmountSchema } from "../../domain/money.ts";
import { markCallbackApplied, storeCallback } from "../../store/callbacks.ts";
import { accountNamed, applyPayment, paymentOf, sameNotifiedPayment, type PaymentNotification } from "../../store/payments.ts";
import { SIGNATURE_HEADER, verifyTagihSignature } from "../../vendors/tagih-signature.ts";
import { checkCallback, problem, validationProblem } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

/** Where the payment gateway posts its notifications. */
export const PAYMENT_WEBHOOK_PATH = "/v1/webhooks/payments";

/** When a payment was made: a day of grace for the sender's clock; one dated later is a wrong date (the reports would count it on a day yet to come). */
export const paidAtSchema = z.iso
  .datetime({ offset: true, abort: true })
  .refine((at) => Date.parse(at) <= Date.now() + 86_400_000, "must not be in the future");

/** A payment's reference, as a gateway or ops type it: " R-1 " is the payment R-1, not another. */
export const paymentReferenceSchema = z.string().trim().min(1).max(200);

export const paymentNotificationSchema = z
  .object({
    reference: paymentReferenceSchema,
    // Trimmed as an import trims it: " CC-1001 " is the account CC-1001.
    accountExternalId: z.string().trim().min(1).max(200).optional(),
    accountId: z.uuid().optional(),
    amountMinor: minorAmountSchema,
    currency: currencyCodeSchema,
    paidAt: paidAtSchema.optional(),
  })
  .refine((n) => n.accountExternalId !== undefined || n.accountId !== undefined, {
    path: ["accountExternalId"],
    message: "accountExternalId or accountId is required",
  });

const outcome = z.object({
  reference: z.string(),
  accountId: z.string().optional(),
  status: z.enum(["recorded", "duplicate", "unmatched"]),
  signalled: z.number(),
});

/** Payment gateway notifications: signed JSON, one payment per reference. */
export function paymentWebhookRoutes({ db, temporal, logger, settings }: ApiDeps) {
  const app = router();
  // Documented here; handled below on the raw body, which the signature covers.
  app.openAPIRegistry.registerPath({
    method: "post",
    path: PAYMENT_WEBHOOK_PATH,
    tags: ["webhooks"],
    summary: "Payment gateway notification (signed with X-Tagih-Signature)",
    description: [
      '`X-Tagih-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with TAGIH_PAYMENT_WEBHOOK_SECRET; more than 5 minutes off is refused.',
      "Each reference is stored raw once (callbacks, vendor `payments`) and recorded once; a full payment ends the account's journeys `paid`.",
      "A payment for an account we do not know (yet) is kept and answered 202: it is applied once when the account is created or imported (or redelivered after that), and listed at `GET /v1/payments/unmatched` meanwhile.",
    ].join(" "),
    security: [{ tagihSignature: [] }],
    request: {
      body: { required: true, content: { "application/json": { schema: paymentNotificationSchema } } },
    },
    responses: {
      200: { description: "Recorded, or a repeat of a recorded payment (nothing changed)", content: { "application/json": { schema: outcome } } },
      202: { description: "Stored, but no account matches: kept for reconciliation", content: { "application/json": { schema: outcome } } },
      400: { description: "Malformed: the problem names every invalid field; nothing stored" },
      401: { description: "No signature; nothing stored" },
      403: { description: "Forged or stale signature; nothing stored" },
      409: { description: "The reference was notified before, or recorded, with another account, amount or currency; not applied" },
      422: { description: "The currency is not the account's, or accountId and accountExternalId name different accounts; stored, not applied" },
      503: { description: "Not configured, or stored but the account's journeys could not be told yet; retry" },
    },
  });

  app.post(PAYMENT_WEBHOOK_PATH, async (c) => {
    const secret = settings.paymentWebhookSecret;
    if (!secret) {
      logger.error({ vendor: "payments" }, "refused a payment notification: TAGIH_PAYMENT_WEBHOOK_SECRET is not set");
      return problem(c, 503, "Unavailable", "payment notifications are not configured");
    }
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const check = verifyTagihSignature(secret, c.req.header(SIGNATURE_HEADER), bytes);
    if (!check.ok) {
      logger.warn({ vendor: "payments", reason: check.reason }, "rejected a payment notification");
      return check.reason === "missing"
        ? problem(c, 401, "Unauthorized", "missing X-Tagih-Signature (t=<unix seconds>,v1=<hex HMAC-SHA256>)")
        : problem(
            c,
            403,
            "Forbidden",
            {
              stale: "X-Tagih-Signature timestamp is more than 5 minutes off",
              malformed: "malformed X-Tagih-Signature: expected t=<unix seconds>,v1=<hex HMAC-SHA256>",
              forged: "invalid X-Tagih-Signature",
            }[check.reason],
          );
    }
    const json = parseJson(bytes);
    if (json === undefined) return validationProblem(c, [{ field: "(body)", reason: "must be a JSON object" }]);
    const parsed = checkCallback(paymentNotificationSchema, json);
    if (!parsed.success) return validationProblem(c, parsed.problems);
    const n = parsed.data;

    // Stored before the account is looked up: an import that commits in between finds it waiting.
    const stored = await storeCallback(db, { vendor: "payments", eventId: n.reference, kind: "payment", payload: json as Prisma.InputJsonValue });
    // A reference is stored once, as first notified, and only that notification is ever
    // applied (here, by reconciliation or by ops): another payment under it changes nothing.
    const notified = stored.payload as unknown as PaymentNotification;
    if (!sameNotifiedPayment(notified, n)) {
      logger.warn({ vendor: "payments", reference: n.reference }, "payment reference notified again with other details");
      return problem(c, 409, "Conflict", `payment ${n.reference} was notified before with another account, amount or currency`);
    }
    const account = await db.account.findFirst({ where: accountNamed(n), select: { id: true } });
    if (!account) {
      // Assigned to an account by hand since: a repeat.
      const assigned = stored.alreadyApplied ? await db.payment.findUnique({ where: { reference: n.reference }, select: { accountId: true } }) : null;
      if (assigned) return c.json({ reference: n.reference, accountId: assigned.accountId, status: "duplicate" as const, signalled: 0 }, 200);
      // Named by id and external id that are not one account: no import can ever match it.
      if (n.accountId && n.accountExternalId) {
        const other = await db.account.findFirst({ where: { OR: [{ id: n.accountId }, { externalId: n.accountExternalId }] }, select: { id: true } });
        if (other) {
          logger.warn({ vendor: "payments", reference: n.reference }, "payment names two different accounts; stored, not applied");
          return problem(c, 422, "Unprocessable", `payment ${n.reference}: accountId and accountExternalId name different accounts`, [
            { field: "accountId", reason: `is not the account with accountExternalId ${n.accountExternalId}` },
          ]);
        }
      }
      logger.warn({ vendor: "payments", reference: n.reference }, "payment for an unknown account kept for reconciliation");
      return c.json({ reference: n.reference, status: "unmatched" as const, signalled: 0 }, 202);
    }

    let applied;
    try {
      // A first delivery, or a redelivery of one not yet applied: the journeys are told.
      applied = await applyPayment({ db, temporal, logger }, paymentOf(notified, account.id), { resignal: !stored.alreadyApplied });
    } catch (error) {
      logger.error({ err: error, vendor: "payments", reference: n.reference }, "could not apply a payment notification");
      return problem(c, 503, "Unavailable", "stored; the payment could not be applied yet, retry later");
    }
    switch (applied.status) {
      case "no-account":
        return c.json({ reference: n.reference, status: "unmatched" as const, signalled: 0 }, 202);
      case "currency-mismatch":
        return problem(c, 422, "Unprocessable", `account ${account.id} is in ${applied.accountCurrency}`, [
          { field: "currency", reason: `must be the account's currency ${applied.accountCurrency}` },
        ]);
      case "conflict":
        logger.warn({ vendor: "payments", reference: n.reference }, "payment reference reused with other details");
        return problem(c, 409, "Conflict", `payment ${n.reference} was recorded with another account, amount or currency`);
      default:
        if (!stored.alreadyApplied) await markCallbackApplied(db, stored.id);
        return c.json({ reference: n.reference, accountId: account.id, status: applied.status, signalled: applied.signalled }, 200);
    }
  });
  return app;
}

/** The body (UTF-8, a byte order mark dropped) as JSON, or undefined when it is not a JSON object. */
export function parseJson(body: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(body));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
