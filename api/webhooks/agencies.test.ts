import { describe, expect, it } from "vitest";
import { createLogger } from "../../runtime/logger.ts";
import { signTagihPayload } from "../../vendors/tagih-signature.ts";
import type { ApiDeps } from "../types.ts";
import { agencyEventSchema, agencyWebhookRoutes, eventUuid } from "./agencies.ts";

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
