import { z } from "@hono/zod-openapi";
import { WorkflowNotFoundError } from "@temporalio/client";
import { createHash } from "node:crypto";
import type { Prisma } from "../../generated/prisma/client.ts";
import { currencyCodeSchema } from "../../domain/money.ts";
import { markCallbackApplied } from "../../store/callbacks.ts";
import { apiKeyHash } from "../../store/api-keys.ts";
import { applyPayment, signalRunningJourneys } from "../../store/payments.ts";
import { SIGNATURE_HEADER, verifyTagihSignature } from "../../vendors/tagih-signature.ts";
import type { PromiseSignal } from "../../workflows/account-messages.ts";
import { checkCallback, problem, validationProblem, type FieldProblem } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";
import { storeCallback } from "../../store/callbacks.ts";
import { minorAmount, parseJson } from "./payments.ts";

const PATH = "/v1/webhooks/agencies/{agencyId}";

const base = {
  /** The agency's id for this event: a redelivery carries the same one. */
  eventId: z.string().min(1).max(200),
  placementId: z.uuid(),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
};

export const agencyEventSchema = z.discriminatedUnion("type", [
  z.object({
    ...base,
    type: z.literal("contact"),
    /** What the contact achieved, in the agency's words (right-party-contact, no-answer, refused…). */
    outcome: z.string().min(1).max(100),
    channel: z.string().min(1).max(50).optional(),
    note: z.string().max(2000).optional(),
  }),
  z.object({ ...base, type: z.literal("promise"), amountMinor: minorAmount, dueDate: z.iso.date(), currency: currencyCodeSchema.optional() }),
  z.object({
    ...base,
    type: z.literal("payment"),
    amountMinor: minorAmount,
    currency: currencyCodeSchema.optional(),
    /** The payment's reference (the gateway's, when the agency knows it); else `agency:<agencyId>:<eventId>`. */
    reference: z.string().min(1).max(200).optional(),
    paidAt: z.iso.datetime({ offset: true }).optional(),
  }),
  z.object({ ...base, type: z.literal("recall"), reason: z.string().max(500).optional() }),
]);
export type AgencyEvent = z.infer<typeof agencyEventSchema>;

const outcome = z.object({ eventId: z.string(), placementId: z.string(), type: z.string(), status: z.enum(["applied", "duplicate"]), signalled: z.number() });

/**
 * A stable UUID for something created from an agency event, so a redelivery creates nothing new.
 * @example eventUuid("agency:…:ev-1") // "6f1c…-…"
 */
export function eventUuid(key: string): string {
  const h = createHash("sha256").update(key).digest();
  h[6] = (h[6]! & 0x0f) | 0x80; // version 8 (custom)
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = h.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

class Refusal {
  constructor(
    readonly status: 409 | 422,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldProblem[],
  ) {}
}

/** Outcome callbacks from collection agencies: per-agency API key plus HMAC signature. */
export function agencyWebhookRoutes({ db, temporal, logger }: ApiDeps) {
  const app = router();
  app.openAPIRegistry.registerPath({
    method: "post",
    path: PATH,
    tags: ["webhooks"],
    summary: "Agency outcome callback: contact, promise, payment or recall (API key plus X-Tagih-Signature)",
    description: [
      '`Authorization: Bearer <api key>` of the agency in the path, and `X-Tagih-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with its secret.',
      "Each (agency, eventId) is stored raw once and applied once: contact is recorded; promise records a promise and pauses the account's journeys;",
      "payment is recorded once per reference (default `agency:<agencyId>:<eventId>`); recall hands the account back to its strategy.",
    ].join(" "),
    // Both at once: the agency's key and its signature.
    security: [{ apiKey: [], tagihSignature: [] }],
    request: {
      params: z.object({ agencyId: z.string() }),
      body: { required: true, content: { "application/json": { schema: agencyEventSchema } } },
    },
    responses: {
      200: { description: "Applied, or a repeat of an applied event (nothing changed)", content: { "application/json": { schema: outcome } } },
      400: { description: "Malformed: the problem names every invalid field; nothing stored" },
      401: { description: "No API key or no signature; nothing stored" },
      403: { description: "Wrong API key, forged or stale signature, or another agency's placement; nothing stored" },
      404: { description: "No such placement; nothing stored" },
      409: { description: "A payment reference recorded with other details; stored, not applied" },
      422: { description: "A currency that is not the account's; stored, not applied" },
      503: { description: "Stored, but the account's journeys could not be told yet; retry" },
    },
  });

  app.post("/v1/webhooks/agencies/:agencyId", async (c) => {
    const agencyId = c.req.param("agencyId");
    const key = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
    if (!key) return problem(c, 401, "Unauthorized", "missing Authorization: Bearer <api key>");
    const agency = await db.agency.findUnique({ where: { apiKeyHash: apiKeyHash(key) } });
    if (!agency || agency.id !== agencyId) {
      logger.warn({ vendor: "agency", agencyId, reason: agency ? "another agency's key" : "unknown key" }, "rejected an agency callback");
      return problem(c, 403, "Forbidden", "invalid API key for this agency");
    }
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const check = verifyTagihSignature(agency.secret, c.req.header(SIGNATURE_HEADER), bytes);
    if (!check.ok) {
      logger.warn({ vendor: "agency", agencyId, reason: check.reason }, "rejected an agency callback");
      return check.reason === "missing"
        ? problem(c, 401, "Unauthorized", "missing X-Tagih-Signature (t=<unix seconds>,v1=<hex HMAC-SHA256>)")
        : problem(c, 403, "Forbidden", check.reason === "stale" ? "X-Tagih-Signature timestamp is more than 5 minutes off" : "invalid X-Tagih-Signature");
    }
    const json = parseJson(bytes);
    if (json === undefined) return validationProblem(c, [{ field: "(body)", reason: "must be a JSON object" }]);
    const parsed = checkCallback(agencyEventSchema, json);
    if (!parsed.success) return validationProblem(c, parsed.problems);
    const event = parsed.data;

    const placement = await db.placement.findUnique({
      where: { id: event.placementId },
      include: { account: { select: { id: true, currency: true } } },
    });
    if (!placement) return problem(c, 404, "Not found", `no placement ${event.placementId}`);
    if (placement.agencyId !== agency.id) {
      logger.warn({ vendor: "agency", agencyId, placementId: placement.id }, "rejected an agency callback for another agency's placement");
      return problem(c, 403, "Forbidden", `placement ${placement.id} is not with this agency`);
    }

    const vendor = `agency:${agency.id}`;
    const stored = await storeCallback(db, { vendor, eventId: event.eventId, kind: `agency-${event.type}`, payload: json as Prisma.InputJsonValue });
    const answer = (status: "applied" | "duplicate", signalled: number) =>
      c.json({ eventId: event.eventId, placementId: placement.id, type: event.type, status, signalled }, 200);
    if (stored.alreadyApplied) return answer("duplicate", 0);

    const deps = { db, temporal, logger };
    const accountId = placement.accountId;
    // Any authenticated callback shows the agency holds the placement: a notice whose
    // answer was lost counts as acknowledged, and its retries stop.
    const acknowledge = () =>
      db.placement.updateMany({ where: { id: placement.id, status: "placed" }, data: { status: "acknowledged", acknowledgedAt: new Date() } });
    const apply = async (): Promise<number> => {
      switch (event.type) {
        case "contact":
          await acknowledge();
          logger.info({ vendor, placementId: placement.id, outcome: event.outcome }, "agency reported a contact");
          return 0;
        case "promise": {
          if (event.currency && event.currency !== placement.account.currency) throw currencyRefusal(placement.account.currency);
          await acknowledge();
          const id = eventUuid(`${vendor}:${event.eventId}:promise`);
          await db.paymentPromise.createMany({
            data: [
              {
                id,
                accountId,
                enrolmentId: placement.enrolmentId,
                amountMinor: BigInt(event.amountMinor),
                currency: placement.account.currency,
                dueDate: new Date(event.dueDate),
                source: `agency:${agency.name}`,
              },
            ],
            skipDuplicates: true,
          });
          // A promise already kept or broken is not reopened by a late redelivery.
          const open = await db.paymentPromise.count({ where: { id, status: "open" } });
          if (!open) return 0;
          const signal: PromiseSignal = { promiseId: id, amountMinor: event.amountMinor, dueDate: event.dueDate };
          return signalRunningJourneys(deps, accountId, "promiseToPay", signal);
        }
        case "payment": {
          await acknowledge();
          const applied = await applyPayment(
            deps,
            {
              accountId,
              reference: event.reference ?? `${vendor}:${event.eventId}`,
              amountMinor: event.amountMinor,
              currency: event.currency ?? placement.account.currency,
              paidAt: event.paidAt ? new Date(event.paidAt) : undefined,
            },
            { resignal: true },
          );
          if (applied.status === "currency-mismatch") throw currencyRefusal(applied.accountCurrency);
          if (applied.status === "conflict")
            throw new Refusal(409, "Conflict", `payment ${applied.payment.reference} was recorded with another account, amount or currency`);
          return applied.signalled;
        }
        case "recall":
          return recall(placement.id, placement.enrolmentId, stored.id, vendor);
      }
    };

    let signalled: number;
    try {
      signalled = await apply();
    } catch (error) {
      if (error instanceof Refusal) return problem(c, error.status, error.title, error.detail, error.errors);
      logger.error({ err: error, vendor, eventId: event.eventId, type: event.type }, "could not apply an agency callback");
      return problem(c, 503, "Unavailable", "stored; the event could not be applied yet, retry later");
    }
    await markCallbackApplied(db, stored.id);
    return answer("applied", signalled);
  });

  /**
   * Marks the placement recalled and tells the journey that placed it, which goes on with its
   * strategy. A retry of this event tells it again; a second recall event of the same
   * placement does not (the journey may have placed the account again since).
   */
  async function recall(placementId: string, enrolmentId: string | null, callbackId: string, vendor: string): Promise<number> {
    const { count } = await db.placement.updateMany({
      where: { id: placementId, status: { in: ["placed", "acknowledged"] } },
      data: { status: "recalled", recalledAt: new Date() },
    });
    if (count === 0) {
      const earlier = await db.$queryRaw<unknown[]>`
        SELECT 1 FROM callbacks
         WHERE vendor = ${vendor} AND kind = 'agency-recall' AND applied_at IS NOT NULL AND id <> ${callbackId}::uuid
           AND payload ->> 'placementId' = ${placementId}
         LIMIT 1`;
      if (earlier.length > 0) return 0;
    }
    if (!enrolmentId) return 0;
    const enrolment = await db.enrolment.findUnique({ where: { id: enrolmentId }, select: { workflowId: true, status: true } });
    if (!enrolment || enrolment.status !== "running") return 0;
    try {
      await temporal.workflow.getHandle(enrolment.workflowId).signal("recalled");
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 0;
      throw error;
    }
    logger.info({ placementId, workflowId: enrolment.workflowId }, "placement recalled; the journey goes on");
    return 1;
  }

  return app;
}

function currencyRefusal(accountCurrency: string) {
  return new Refusal(422, "Unprocessable", `the account is in ${accountCurrency}`, [
    { field: "currency", reason: `must be the account's currency ${accountCurrency}` },
  ]);
}
