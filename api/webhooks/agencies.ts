import { z } from "@hono/zod-openapi";
import { WorkflowNotFoundError } from "@temporalio/client";
import { createHash } from "node:crypto";
import type { Agency, Prisma } from "../../generated/prisma/client.ts";
import { currencyCodeSchema, minorAmountSchema } from "../../domain/money.ts";
import { promiseDueDateProblem } from "../../domain/promise-dates.ts";
import { apiKeyHash } from "../../store/api-keys.ts";
import { applyPayment, signalRunningJourneys } from "../../store/payments.ts";
import { SIGNATURE_HEADER, verifyTagihSignature, type SignatureCheck } from "../../vendors/tagih-signature.ts";
import type { PromiseSignal, RecallSignal } from "../../workflows/account-messages.ts";
import { checkCallback, fieldProblems, problem, validationProblem, type FieldProblem } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";
import { markCallbackApplied, storeCallback } from "../../store/callbacks.ts";
import { paidAtSchema, parseJson, paymentReferenceSchema } from "./payments.ts";

const PATH = "/v1/webhooks/agencies/{agencyId}";

const base = {
  /** The agency's id for this event: a redelivery carries the same one. */
  eventId: z.string().min(1).max(200),
  placementId: z.uuid(),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
};

const EVENT_TYPES = ["contact", "promise", "payment", "recall"] as const;

export const agencyEventSchema = z.discriminatedUnion("type", [
  z.object({
    ...base,
    type: z.literal("contact"),
    /** What the contact achieved, in the agency's words (right-party-contact, no-answer, refused…). */
    outcome: z.string().min(1).max(100),
    channel: z.string().min(1).max(50).optional(),
    note: z.string().max(2000).optional(),
  }),
  z.object({ ...base, type: z.literal("promise"), amountMinor: minorAmountSchema, dueDate: z.iso.date(), currency: currencyCodeSchema.optional() }),
  z.object({
    ...base,
    type: z.literal("payment"),
    amountMinor: minorAmountSchema,
    currency: currencyCodeSchema.optional(),
    /** The payment's reference (the gateway's, when the agency knows it); else `agency:<agencyId>:<eventId>`. */
    reference: paymentReferenceSchema.optional(),
    paidAt: paidAtSchema.optional(),
  }),
  z.object({ ...base, type: z.literal("recall"), reason: z.string().max(500).optional() }),
]);
export type AgencyEvent = z.infer<typeof agencyEventSchema>;

// The fields every event has: checked on their own when the type is missing or unknown, as the
// discriminated union then stops at `type` and would name no other invalid field.
const envelopeSchema = z.object({ ...base, type: z.enum(EVENT_TYPES) });

/**
 * An agency event checked against its schema, naming every invalid field (the shared ones too
 * when `type` is missing or unknown).
 * @example parseAgencyEvent({ eventId: "", placementId: "x" }) // problems name eventId, placementId and type
 */
export function parseAgencyEvent(json: unknown): { success: true; data: AgencyEvent } | { success: false; problems: FieldProblem[] } {
  const parsed = checkCallback(agencyEventSchema, json);
  if (parsed.success || !parsed.problems.some((p) => p.field === "type")) return parsed;
  const envelope = envelopeSchema.safeParse(json);
  return { success: false, problems: envelope.success ? parsed.problems : fieldProblems(envelope.error) };
}

/**
 * The fields in which two deliveries of one event differ, by meaning: key order, unknown keys,
 * the spelling of an instant, a currency's case or a number given as a string do not count.
 * @example differingFields(first, again) // ["amountMinor", "currency"]
 */
export function differingFields(a: AgencyEvent, b: AgencyEvent): string[] {
  const meaning = (field: string, value: unknown) => {
    if (value === undefined) return undefined;
    if (field === "occurredAt" || field === "paidAt") return Date.parse(String(value));
    if (field === "placementId") return String(value).toLowerCase();
    return String(value);
  };
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const av = a as Record<string, unknown>;
  const bv = b as Record<string, unknown>;
  return fields.filter((f) => meaning(f, av[f]) !== meaning(f, bv[f]));
}

const outcome = z.object({
  eventId: z.string(),
  placementId: z.string(),
  type: z.string(),
  status: z.enum(["applied", "duplicate", "ignored"]),
  signalled: z.number(),
});

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
      '`Authorization: Bearer <api key>` of the agency in the path, and `X-Tagih-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with its secret',
      "(after `POST /v1/agencies/{id}/credentials`, the replaced key and secret work 24 hours more; after `DELETE` none do).",
      "Each (agency, eventId) is stored raw once, and only that first delivery is ever applied, once: a redelivery with other content is 409.",
      "contact is recorded; promise records a promise and pauses the account's journeys;",
      "payment is recorded once per reference (default `agency:<agencyId>:<eventId>`); recall hands the account back to its strategy,",
      "and is `ignored` (nothing changes, nobody is told) when the placement is no longer placed or acknowledged.",
    ].join(" "),
    // Both at once: the agency's key and its signature.
    security: [{ apiKey: [], tagihSignature: [] }],
    request: {
      params: z.object({ agencyId: z.string() }),
      body: { required: true, content: { "application/json": { schema: agencyEventSchema } } },
    },
    responses: {
      200: {
        description: "`applied`; `duplicate`, a repeat of an applied event; or `ignored`, a recall of a placement no longer open: nothing changed",
        content: { "application/json": { schema: outcome } },
      },
      400: { description: "Malformed: the problem names every invalid field; nothing stored" },
      401: { description: "No API key or no signature; nothing stored" },
      403: { description: "Wrong, revoked or expired API key, or a forged, malformed or stale signature; nothing stored" },
      404: { description: "No such placement with this agency (another agency's placement included); nothing stored" },
      409: {
        description:
          "The eventId was delivered before with other content (the problem names the differing fields), or a payment reference was recorded with other details; not applied",
      },
      422: { description: "A currency that is not the account's; stored, not applied" },
      503: { description: "Stored, but the account's journeys could not be told yet; retry" },
    },
  });

  app.post("/v1/webhooks/agencies/:agencyId", async (c) => {
    const agencyId = c.req.param("agencyId");
    const key = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
    if (!key) return problem(c, 401, "Unauthorized", "missing Authorization: Bearer <api key>");
    const found = await agencyByKey(key);
    if (!found || found.agency.id !== agencyId) {
      logger.warn({ vendor: "agency", agencyId, reason: found ? "another agency's key" : "unknown key" }, "rejected an agency callback");
      return problem(c, 403, "Forbidden", "invalid API key for this agency");
    }
    if (found.refused) {
      logger.warn({ vendor: "agency", agencyId, reason: `${found.refused} key` }, "rejected an agency callback");
      const detail =
        found.refused === "revoked"
          ? `the callback credentials of agency ${agencyId} are revoked`
          : `this API key of agency ${agencyId} was replaced more than 24 hours ago: use the current one`;
      return problem(c, 403, "Forbidden", detail);
    }
    const { agency } = found;
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const header = c.req.header(SIGNATURE_HEADER);
    const check = verifyWithAny(validSecrets(agency), header, bytes);
    if (!check.ok) {
      const { reason } = check;
      logger.warn({ vendor: "agency", agencyId, reason }, "rejected an agency callback");
      if (reason === "missing") return problem(c, 401, "Unauthorized", "missing X-Tagih-Signature (t=<unix seconds>,v1=<hex HMAC-SHA256>)");
      const detail = {
        stale: "X-Tagih-Signature timestamp is more than 5 minutes off",
        malformed: "malformed X-Tagih-Signature: expected t=<unix seconds>,v1=<hex HMAC-SHA256>",
        forged: "invalid X-Tagih-Signature",
      }[reason];
      return problem(c, 403, "Forbidden", detail);
    }
    const json = parseJson(bytes);
    if (json === undefined) return validationProblem(c, [{ field: "(body)", reason: "must be a JSON object" }]);
    const parsed = parseAgencyEvent(json);
    if (!parsed.success) return validationProblem(c, parsed.problems);
    const delivered = parsed.data;

    const placement = await db.placement.findUnique({
      where: { id: delivered.placementId },
      include: { account: { select: { id: true, currency: true } } },
    });
    // Another agency's placement is answered as an unknown one, so ids cannot be probed.
    if (!placement || placement.agencyId !== agency.id) {
      if (placement) logger.warn({ vendor: "agency", agencyId, placementId: placement.id }, "rejected an agency callback for another agency's placement");
      return problem(c, 404, "Not found", `no placement ${delivered.placementId} with this agency`);
    }

    const vendor = `agency:${agency.id}`;
    const stored = await storeCallback(db, { vendor, eventId: delivered.eventId, kind: `agency-${delivered.type}`, payload: json as Prisma.InputJsonValue });
    // Only the event as first stored is ever applied: a redelivery that says something else
    // under its id is refused, whatever became of the first.
    const first = agencyEventSchema.safeParse(stored.payload);
    const differing = first.success ? differingFields(first.data, delivered) : ["(body)"];
    if (!first.success || differing.length > 0) {
      logger.warn({ vendor, eventId: delivered.eventId, placementId: placement.id, differing }, "agency event redelivered with other content");
      return problem(
        c,
        409,
        "Conflict",
        `event ${delivered.eventId} of agency ${agency.name} was delivered before with other content (${differing.join(", ")}); only that first delivery is applied`,
        differing.map((field) => ({ field, reason: "differs from the event as first delivered under this eventId" })),
      );
    }
    const event = first.data;
    const answer = (status: "applied" | "duplicate" | "ignored", signalled: number) =>
      c.json({ eventId: event.eventId, placementId: placement.id, type: event.type, status, signalled }, 200);
    if (stored.alreadyApplied) return answer("duplicate", 0);

    const deps = { db, temporal, logger };
    const accountId = placement.accountId;
    // Any authenticated callback shows the agency holds the placement: a notice whose
    // answer was lost counts as acknowledged, and its retries stop.
    const acknowledge = () =>
      db.placement.updateMany({ where: { id: placement.id, status: "placed" }, data: { status: "acknowledged", acknowledgedAt: new Date() } });
    const apply = async (): Promise<number | "ignored" | { duplicate: number }> => {
      switch (event.type) {
        case "contact":
          await acknowledge();
          logger.info({ vendor, placementId: placement.id, outcome: event.outcome }, "agency reported a contact");
          return 0;
        case "promise": {
          if (event.currency && event.currency !== placement.account.currency) throw currencyRefusal(placement.account.currency);
          // The rules ops promises follow: a date already past or years out is a slip, and
          // would end the journey's pause at once or never.
          const dueDateProblem = promiseDueDateProblem(event.dueDate, Date.now());
          if (dueDateProblem) throw new Refusal(422, "Unprocessable", `invalid dueDate ${event.dueDate}`, [{ field: "dueDate", reason: dueDateProblem }]);
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
          // A payment recorded before (a concurrent copy of this event, or another event
          // reporting the same reference) is not applied again: the agency is told so.
          return applied.status === "duplicate" ? { duplicate: applied.signalled } : applied.signalled;
        }
        case "recall":
          return recall(placement, stored.id, vendor, event.eventId);
      }
    };

    let result: number | "ignored" | { duplicate: number };
    try {
      result = await apply();
    } catch (error) {
      if (error instanceof Refusal) return problem(c, error.status, error.title, error.detail, error.errors);
      logger.error({ err: error, vendor, eventId: event.eventId, placementId: placement.id, type: event.type }, "could not apply an agency callback");
      return problem(c, 503, "Unavailable", "stored; the event could not be applied yet, retry later");
    }
    // Left unapplied: a redelivery is weighed again, and answered the same.
    if (result === "ignored") return answer("ignored", 0);
    await markCallbackApplied(db, stored.id);
    return typeof result === "number" ? answer("applied", result) : answer("duplicate", result.duplicate);
  });

  /** The agency an API key belongs to, and why the key no longer works (revoked, or replaced over 24 hours ago). */
  async function agencyByKey(key: string): Promise<{ agency: Agency; refused?: "revoked" | "replaced" } | undefined> {
    const hash = apiKeyHash(key);
    const current = await db.agency.findUnique({ where: { apiKeyHash: hash } });
    if (current) return { agency: current, ...(current.credentialsRevokedAt ? { refused: "revoked" as const } : {}) };
    const previous = await db.agency.findUnique({ where: { previousApiKeyHash: hash } });
    if (!previous) return undefined;
    if (previous.credentialsRevokedAt) return { agency: previous, refused: "revoked" };
    return { agency: previous, ...(inGrace(previous) ? {} : { refused: "replaced" as const }) };
  }

  /**
   * Marks the placement recalled and tells the journey that placed it, which goes on with its
   * strategy. A recall of a placement that is no longer open (closed, or recalled by another
   * event) changes nothing and tells nobody: the journey has left that placement. A retry of
   * the event that recalled it tells the journey again (its first signal may not have been
   * sent), unless the journey placed the account again; the signal names the placement, so a
   * journey that has moved on to another ignores it anyway.
   */
  async function recall(
    placement: { id: string; enrolmentId: string | null; placedAt: Date },
    callbackId: string,
    vendor: string,
    eventId: string,
  ): Promise<number | "ignored"> {
    const { count } = await db.placement.updateMany({
      where: { id: placement.id, status: { in: ["placed", "acknowledged"] } },
      data: { status: "recalled", recalledAt: new Date() },
    });
    if (count === 0) {
      const now = await db.placement.findUniqueOrThrow({ where: { id: placement.id }, select: { status: true } });
      if (now.status !== "recalled") {
        logger.info({ vendor, eventId, placementId: placement.id, status: now.status }, "ignored the recall of a placement that is not open");
        return "ignored";
      }
      const earlier = await db.$queryRaw<unknown[]>`
        SELECT 1 FROM callbacks
         WHERE vendor = ${vendor} AND kind = 'agency-recall' AND applied_at IS NOT NULL AND id <> ${callbackId}::uuid
           AND payload ->> 'placementId' = ${placement.id}
         LIMIT 1`;
      if (earlier.length > 0) {
        logger.info({ vendor, eventId, placementId: placement.id }, "ignored a recall of a placement recalled before");
        return "ignored";
      }
    }
    if (!placement.enrolmentId) return 0;
    const enrolment = await db.enrolment.findUnique({ where: { id: placement.enrolmentId }, select: { workflowId: true, status: true } });
    if (!enrolment || enrolment.status !== "running") return 0;
    // The journey waits on one placement at a time, the latest it made.
    const later = await db.placement.count({
      where: { enrolmentId: placement.enrolmentId, id: { not: placement.id }, placedAt: { gte: placement.placedAt } },
    });
    if (later > 0) {
      logger.info(
        { vendor, eventId, placementId: placement.id, workflowId: enrolment.workflowId },
        "recalled a placement the journey has moved past; not signalled",
      );
      return 0;
    }
    try {
      await temporal.workflow.getHandle(enrolment.workflowId).signal("recalled", { placementId: placement.id } satisfies RecallSignal);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 0;
      throw error;
    }
    logger.info({ placementId: placement.id, workflowId: enrolment.workflowId }, "placement recalled; the journey goes on");
    return 1;
  }

  return app;
}

/** The secrets a callback may be signed with: the agency's, and the one it replaced while the 24 hours of grace last. */
function validSecrets(agency: Agency): string[] {
  return agency.previousSecret && inGrace(agency) ? [agency.secret, agency.previousSecret] : [agency.secret];
}

const inGrace = (agency: Agency) => agency.previousValidUntil !== null && agency.previousValidUntil.getTime() > Date.now();

/** Verified by any of the secrets; otherwise the most telling refusal (a stale but genuine signature says so). */
function verifyWithAny(secrets: string[], header: string | undefined, body: Uint8Array): SignatureCheck {
  const checks = secrets.map((secret) => verifyTagihSignature(secret, header, body));
  return checks.find((check) => check.ok) ?? checks.find((check) => !check.ok && check.reason === "stale") ?? checks[0]!;
}

function currencyRefusal(accountCurrency: string) {
  return new Refusal(422, "Unprocessable", `the account is in ${accountCurrency}`, [
    { field: "currency", reason: `must be the account's currency ${accountCurrency}` },
  ]);
}
