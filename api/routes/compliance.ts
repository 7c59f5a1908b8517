import { createRoute, z } from "@hono/zod-openapi";
import { CHANNELS } from "../../domain/channel.ts";
import {
  evaluateContact,
  holidayCalendar,
  HOLDS,
  InvalidGateInputError,
  lastCoveredDate,
  policyFor,
  readInstant,
  UnknownJurisdictionError,
  type GateDecision,
} from "../../domain/compliance/index.ts";
import { jurisdictionSchema, timeZoneSchema } from "../../domain/account-input.ts";
import { gateInputFor } from "../../store/gate-input.ts";
import { decodeCursor, page, pageOf, pageQuery } from "../pagination.ts";
import { ProblemError } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

const RULES = ["contact-hours", "contact-days", "holiday", "frequency-cap", "cool-off", "opt-out", "consent", "hold"] as const;
// What the gate reads: ISO 8601 with an offset in any of its spellings (`+0530`, `z`, no seconds).
const instant = z
  .string()
  .refine((value) => readInstant(value) !== null, "must be an ISO-8601 instant with an offset, such as 2026-12-06T03:00:00Z")
  .openapi({ format: "date-time", example: "2026-12-06T03:00:00Z" });

// The request and response shapes are a public contract: keep them exactly.
const evaluateRequest = z
  .object({
    jurisdiction: jurisdictionSchema,
    timeZone: z
      .union([timeZoneSchema, z.array(timeZoneSchema).min(1)], {
        // A single zone that is not one: say so, not that it is no list either.
        error: (issue) => (typeof issue.input === "string" ? "must be an IANA time zone such as Asia/Jakarta" : "must be an IANA time zone or a list of them"),
      })
      .optional(),
    channel: z.enum(CHANNELS),
    at: instant,
    history: z
      .array(z.object({ channel: z.enum(CHANNELS), at: instant, kind: z.enum(["attempt", "conversation"]) }).strict())
      .max(10_000)
      .optional(),
    optOuts: z.array(z.enum(CHANNELS)).optional(),
    consent: z.object({ whatsapp: z.boolean().optional(), autodialedCalls: z.boolean().optional() }).strict().optional(),
    holds: z.array(z.enum(HOLDS)).optional(),
    product: z.string().min(1).max(100).optional(),
  })
  .strict()
  .openapi("ComplianceQuestion");

const decision = z
  .object({
    allowed: z.boolean(),
    reasons: z.array(z.object({ rule: z.enum(RULES), detail: z.string() })),
    nextAllowedAt: z
      .string()
      .nullable()
      .describe(
        "earliest instant at or after `at` when every rule passes; null when none can, or when it lies past the shipped holiday calendars (a `holiday` reason names the missing one)",
      ),
  })
  .openapi("ComplianceDecision");

const evaluate = createRoute({
  method: "post",
  path: "/v1/compliance/evaluate",
  tags: ["compliance"],
  summary: "What-if: would this contact be lawful, and if not, when? (touches no stored data)",
  request: { body: { required: true, content: { "application/json": { schema: evaluateRequest } } } },
  responses: { 200: { description: "The gate's answer", content: { "application/json": { schema: decision } } }, 400: { description: "Invalid question" } },
});

const forAccount = createRoute({
  method: "get",
  path: "/v1/accounts/{id}/compliance",
  tags: ["compliance"],
  summary: "The gate's answer for a stored account, from its real history across every campaign",
  request: {
    params: z.object({ id: z.uuid() }),
    query: z.object({ channel: z.enum(CHANNELS), at: instant.optional().describe("default: now") }),
  },
  responses: { 200: { description: "The gate's answer", content: { "application/json": { schema: decision } } }, 404: { description: "No such account" } },
});

const recordedDecision = z
  .object({
    id: z.string(),
    at: z.string().describe("when the journey asked"),
    campaignId: z.string().nullable(),
    enrolmentId: z.string().nullable(),
    stepId: z.string().nullable(),
    channel: z.enum(CHANNELS),
    allowed: z.boolean(),
    reasons: z.array(z.object({ rule: z.enum(RULES), detail: z.string() })),
    nextAllowedAt: z.string().nullable(),
    policy: z.string().describe("jurisdiction@version of the policy applied"),
    attemptId: z.string().nullable().describe("the contact attempt an allowed decision reserved"),
  })
  .openapi("RecordedComplianceDecision");

const decisionsRoute = createRoute({
  method: "get",
  path: "/v1/accounts/{id}/decisions",
  tags: ["compliance"],
  summary: "Why the account was or was not contacted: every answer the gate gave its journeys, newest first",
  request: { params: z.object({ id: z.uuid() }), query: pageQuery },
  responses: {
    200: { description: "A page of decisions", content: { "application/json": { schema: pageOf(recordedDecision) } } },
    404: { description: "No such account" },
  },
});

const sourced = { kind: z.enum(["law", "house"]), source: z.string() };
const window = z.object({ start: z.string(), end: z.string(), ...sourced });
const windows = z.object(Object.fromEntries(CHANNELS.map((channel) => [channel, window])) as Record<(typeof CHANNELS)[number], typeof window>);
const policy = z
  .object({
    jurisdiction: z.string(),
    version: z.string(),
    timeZones: z.array(z.string()).describe("all of them apply to an account without a time zone"),
    windows,
    productWindows: z.record(z.string(), windows).optional().describe("windows of particular products, e.g. India's microfinance"),
    contactDays: z.object({ weekdays: z.array(z.string()), ...sourced }),
    holidays: z
      .object({
        calendar: z.string(),
        ...sourced,
        coveredUntil: z.string().describe("the last local date the calendar is complete for: later dates are blocked until the next year's calendar ships"),
        years: z.array(z.number()),
        sources: z.array(z.string()),
        dates: z.array(z.object({ date: z.string(), name: z.string(), type: z.string(), status: z.enum(["published", "provisional"]) })),
      })
      .nullable(),
    frequencyCaps: z.array(z.object({ channels: z.array(z.enum(CHANNELS)), max: z.number(), days: z.number(), ...sourced })),
    coolOffs: z.array(z.object({ channels: z.array(z.enum(CHANNELS)), days: z.number(), afterKind: z.literal("conversation"), ...sourced })),
    consent: z.array(z.object({ channel: z.enum(CHANNELS), consent: z.string(), source: z.string() })),
    sources: z.array(z.string()),
  })
  .openapi("CompliancePolicy");

const policyRoute = createRoute({
  method: "get",
  path: "/v1/compliance/policies/{jurisdiction}",
  tags: ["compliance"],
  summary: "The rules the gate applies in a jurisdiction (a US state's include the country's), with their sources and holiday calendar",
  request: { params: z.object({ jurisdiction: jurisdictionSchema }) },
  responses: { 200: { description: "The policy in force", content: { "application/json": { schema: policy } } }, 400: { description: "No such jurisdiction" } },
});

/** A policy as ops read it: its holiday rule with the calendar's reach and dates. */
function presentPolicy(jurisdiction: string) {
  const { holidays, ...rules } = policyFor(jurisdiction);
  if (!holidays) return { ...rules, holidays: null };
  const calendar = holidayCalendar(holidays.calendar);
  return {
    ...rules,
    holidays: { ...holidays, coveredUntil: lastCoveredDate(holidays.calendar), years: calendar.years, sources: calendar.sources, dates: calendar.holidays },
  };
}

const present = (d: GateDecision) => ({ allowed: d.allowed, reasons: d.reasons, nextAllowedAt: d.nextAllowedAt });

/** Turns the gate's input errors into 400s that name the field. */
function ask(input: Parameters<typeof evaluateContact>[0]): GateDecision {
  try {
    return evaluateContact(input);
  } catch (error) {
    if (error instanceof InvalidGateInputError)
      throw new ProblemError(400, "Invalid request", error.message, [{ field: error.field, reason: `is invalid: ${error.value}` }]);
    if (error instanceof UnknownJurisdictionError)
      throw new ProblemError(400, "Invalid request", error.message, [{ field: "jurisdiction", reason: error.message }]);
    throw error;
  }
}

export function complianceRoutes({ db, sql }: ApiDeps) {
  const app = router();
  app.openapi(decisionsRoute, async (c) => {
    const { id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor, ["timestamp", "uuid"]);
    if (!(await db.account.findUnique({ where: { id }, select: { id: true } }))) throw new ProblemError(404, "Not found", `no account ${id}`);
    const rows = await db.complianceDecision.findMany({
      where: { accountId: id, ...(after ? { OR: [{ evaluatedAt: { lt: after[0] } }, { evaluatedAt: after[0], id: { lt: after[1] } }] } : {}) },
      orderBy: [{ evaluatedAt: "desc" }, { id: "desc" }],
      take: limit + 1,
    });
    const campaigns = new Map(
      (
        await db.enrolment.findMany({
          where: { id: { in: [...new Set(rows.flatMap((r) => (r.enrolmentId ? [r.enrolmentId] : [])))] } },
          select: { id: true, campaignId: true },
        })
      ).map((e) => [e.id, e.campaignId]),
    );
    return c.json(
      page(
        rows,
        limit,
        (r) => [r.evaluatedAt.toISOString(), r.id],
        (r) => ({
          id: r.id,
          at: r.evaluatedAt.toISOString(),
          campaignId: (r.enrolmentId && campaigns.get(r.enrolmentId)) ?? null,
          enrolmentId: r.enrolmentId,
          stepId: r.stepId,
          channel: r.channel as (typeof CHANNELS)[number],
          allowed: r.allowed,
          reasons: r.reasons as unknown as GateDecision["reasons"],
          nextAllowedAt: r.nextAllowedAt?.toISOString() ?? null,
          policy: r.policy,
          attemptId: r.attemptId,
        }),
      ),
      200,
    );
  });
  app.openapi(evaluate, (c) => c.json(present(ask(c.req.valid("json"))), 200));
  app.openapi(policyRoute, (c) => c.json(presentPolicy(c.req.valid("param").jurisdiction), 200));
  app.openapi(forAccount, async (c) => {
    const { id } = c.req.valid("param");
    const { channel, at } = c.req.valid("query");
    const input = await gateInputFor(sql, id, channel, at ? readInstant(at)!.toJSDate() : new Date());
    if (!input) throw new ProblemError(404, "Not found", `no account ${id}`);
    return c.json(present(ask(input)), 200);
  });
  return app;
}
