import { describe, expect, it } from "vitest";
import { createLogger } from "../../runtime/logger.ts";
import { signTagihPayload } from "../../vendors/tagih-signature.ts";
import type { ApiDeps } from "../types.ts";
import { agencyEventSchema, agencyWebhookRoutes, differingFields, eventUuid, parseAgencyEvent, type AgencyEvent } from "./agencies.ts";

const untouchable = new Proxy({}, { get: () => expect.unreachable("no database or Temporal call expected") }) as never;

/** The agency webhook with `db` and nothing else to call. */
const routesWith = (db: ApiDeps["db"]) =>
  agencyWebhookRoutes({
    db,
    sql: untouchable,
    bulk: untouchable,
    rowValidators: untouchable,
    temporal: untouchable,
    logger: createLogger("silent"),
    settings: {} as ApiDeps["settings"],
  });

describe("agency callbacks", () => {
  it("refuses a request without an API key before touching anything", async () => {
    const app = routesWith(untouchable);
    for (const authorization of [undefined, "Basic abc", "Bearer "]) {
      const response = await app.request("/v1/webhooks/agencies/any", {
        method: "POST",
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
        body: "{}",
      });
      expect(response.status, String(authorization)).toBe(401);
    }
  });

  it("refuses a lone surrogate (valid JSON, but not storable by PostgreSQL) with 400 naming the field, before storing anything", async () => {
    const agency = { id: "agency-1", secret: "0123456789abcdef-agency" };
    // Only the agency is looked up: storing anything would fail the request.
    const app = routesWith({ agency: { findUnique: async () => agency } } as never);
    const body = JSON.stringify({ eventId: "e1", placementId: "6f1c2a4e-0000-4000-8000-000000000000", type: "contact", outcome: "no-answer", note: "\ud800" });
    const response = await app.request(`/v1/webhooks/agencies/${agency.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer key", "x-tagih-signature": signTagihPayload(agency.secret, body) },
      body,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ field: "note", reason: "must not contain unpaired surrogates" }] });
  });

  it("answers a signature header that is there but unreadable 403 (a wrong signature), a missing one 401, before storing anything", async () => {
    const agency = { id: "agency-1", secret: "0123456789abcdef-agency", previousSecret: null, previousValidUntil: null, credentialsRevokedAt: null };
    const app = routesWith({ agency: { findUnique: async () => agency } } as never);
    const send = (signature?: string) =>
      app.request(`/v1/webhooks/agencies/${agency.id}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer key", ...(signature === undefined ? {} : { "x-tagih-signature": signature }) },
        body: "{}",
      });
    for (const signature of ["garbage", "t=1767225600", "v1=abc", "sha256=0123"]) {
      const response = await send(signature);
      expect(response.status, signature).toBe(403);
      expect(((await response.json()) as { detail: string }).detail, signature).toMatch(/malformed X-Tagih-Signature/);
    }
    expect((await send()).status).toBe(401);
  });

  it("names every invalid field when the type is missing or unknown, not only the type", () => {
    const fields = (body: unknown) => {
      const parsed = parseAgencyEvent(body);
      return parsed.success ? undefined : parsed.problems.map((p) => p.field).sort();
    };
    expect(fields({ eventId: "", placementId: "x" })).toEqual(["eventId", "placementId", "type"]);
    expect(fields({ eventId: "", placementId: "x", type: "visit" })).toEqual(["eventId", "placementId", "type"]);
    expect(fields({ placementId: "6f1c2a4e-0000-4000-8000-000000000000", type: "contact" })).toEqual(["eventId", "outcome"]);
    expect(fields({ eventId: "e", placementId: "6f1c2a4e-0000-4000-8000-000000000000", type: "recall" })).toBeUndefined();
  });

  it("compares two deliveries of an event by meaning: order, spelling and unknown keys do not count", () => {
    const parse = (body: unknown) => agencyEventSchema.parse(body) as AgencyEvent;
    const placementId = "6f1c2a4e-0000-4000-8000-000000000000";
    const first = parse({ eventId: "ev-1", placementId, type: "payment", amountMinor: "777", currency: "USD", paidAt: "2026-11-20T10:15:00+07:00" });
    const same = parse({
      paidAt: "2026-11-20T03:15:00Z",
      currency: "usd",
      amountMinor: 777,
      type: "payment",
      placementId: placementId.toUpperCase(),
      eventId: "ev-1",
      x: 1,
    });
    expect(differingFields(first, same)).toEqual([]);
    const other = parse({ eventId: "ev-1", placementId, type: "payment", amountMinor: "400032623", currency: "IDR" });
    expect(differingFields(first, other)).toEqual(["amountMinor", "currency", "paidAt"]);
    expect(differingFields(first, parse({ eventId: "ev-1", placementId, type: "recall" }))).toEqual(["amountMinor", "currency", "paidAt", "type"]);
  });

  it("derives a stable UUID per event, so a redelivery creates nothing new", () => {
    const id = eventUuid("agency:a:ev-1:promise");
    expect(id).toBe(eventUuid("agency:a:ev-1:promise"));
    expect(id).not.toBe(eventUuid("agency:b:ev-1:promise"));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("names the invalid field of each event type", () => {
    const placementId = "6f1c2a4e-0000-4000-8000-000000000000";
    const fields = (body: unknown) => agencyEventSchema.safeParse(body).error?.issues.map((i) => i.path.join("."));
    expect(fields({ eventId: "e", placementId, type: "visit" })).toEqual(["type"]);
    expect(fields({ eventId: "e", placementId, type: "contact" })).toEqual(["outcome"]);
    expect(fields({ eventId: "e", placementId, type: "promise", amountMinor: "10", dueDate: "31/12/2026" })).toEqual(["dueDate"]);
    expect(fields({ eventId: "e", placementId, type: "payment", amountMinor: 0 })).toEqual(["amountMinor"]);
    expect(fields({ eventId: "", placementId: "p", type: "recall" })).toEqual(["eventId", "placementId"]);
    expect(fields({ eventId: "e", placementId, type: "recall" })).toBeUndefined();
  });
});
