// The gateway webhook's refusals happen before any database or Temporal call, so they are
// checked here on the bare router; test/payments.test.ts covers the rest end to end.
import { describe, expect, it } from "vitest";
import { createLogger } from "../../runtime/logger.ts";
import { signTagihPayload } from "../../vendors/tagih-signature.ts";
import type { ApiDeps } from "../types.ts";
import { paymentNotificationSchema, paymentWebhookRoutes } from "./payments.ts";

const secret = "0123456789abcdef-gateway";
const untouchable = new Proxy({}, { get: () => expect.unreachable("no database or Temporal call expected") }) as never;
const routes = (paymentWebhookSecret?: string) =>
  paymentWebhookRoutes({
    db: untouchable,
    sql: untouchable,
    bulk: untouchable,
    rowValidators: untouchable,
    temporal: untouchable,
    logger: createLogger("silent"),
    // Only what these routes read; the rest of the settings belongs to other routes.
    settings: { paymentWebhookSecret } as ApiDeps["settings"],
  });
const body = JSON.stringify({ reference: "PAY-1", accountExternalId: "CC-1", amountMinor: 100, currency: "IDR" });
const post = (app: ReturnType<typeof routes>, raw: string, signature?: string) =>
  app.request("/v1/webhooks/payments", {
    method: "POST",
    headers: { "content-type": "application/json", ...(signature ? { "x-tagih-signature": signature } : {}) },
    body: raw,
  });

describe("POST /v1/webhooks/payments refusals", () => {
  it("answers 503 while TAGIH_PAYMENT_WEBHOOK_SECRET is not set, even to a signed request", async () => {
    const response = await post(routes(undefined), body, signTagihPayload(secret, body));
    expect(response.status).toBe(503);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });

  it.each([
    ["no signature", undefined, 401],
    ["a forged signature", signTagihPayload("another-secret-entirely", body), 403],
    ["a stale signature", signTagihPayload(secret, body, Math.floor(Date.now() / 1000) - 301), 403],
  ])("answers %s with %i", async (_what, signature, status) => {
    expect((await post(routes(secret), body, signature)).status).toBe(status);
  });

  it("checks the signature before the body: an unsigned malformed body is 401, a signed one 400", async () => {
    expect((await post(routes(secret), "{not json")).status).toBe(401);
    const signed = await post(routes(secret), "{not json", signTagihPayload(secret, "{not json"));
    expect(signed.status).toBe(400);
    expect(await signed.json()).toMatchObject({ errors: [{ field: "(body)" }] });
  });

  it("checks the signature over the bytes sent, a byte order mark included, and reads the JSON after it", async () => {
    const withBom = `\uFEFF${JSON.stringify({ reference: "PAY-1", accountExternalId: "CC-\u00001", amountMinor: 100, currency: "IDR" })}`;
    const response = await post(routes(secret), withBom, signTagihPayload(secret, withBom));
    // Past the signature and the JSON: refused for the NUL character, before anything is stored.
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ field: "accountExternalId" }] });
  });

  it("answers a signed body with a NUL character (which PostgreSQL cannot store) 400 naming the field, before storing anything", async () => {
    const withNul = JSON.stringify({ reference: "PAY-1", accountExternalId: "CC-\u00001", amountMinor: 100, currency: "IDR" });
    const response = await post(routes(secret), withNul, signTagihPayload(secret, withNul));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ field: "accountExternalId", reason: "must not contain NUL characters" }] });
  });

  it.each([
    ["reference", { reference: "PAY-\ud800" }],
    ["note", { note: "paid at the counter \udfff" }],
  ])("answers a signed body with a lone surrogate in %s (valid JSON, but not storable by PostgreSQL) 400 naming it", async (field, extra) => {
    const raw = JSON.stringify({ reference: "PAY-1", accountExternalId: "CC-1", amountMinor: 100, currency: "IDR", ...extra });
    const response = await post(routes(secret), raw, signTagihPayload(secret, raw));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ field, reason: "must not contain unpaired surrogates" }] });
  });
});

describe("payment notification schema", () => {
  it("takes the amount as an integer or a digit string and keeps it exact", () => {
    const base = { reference: "R", accountId: "6f1c2a4e-0000-4000-8000-000000000000", currency: "KWD" };
    expect(paymentNotificationSchema.parse({ ...base, amountMinor: 5 }).amountMinor).toBe("5");
    expect(paymentNotificationSchema.parse({ ...base, amountMinor: "900719925474099312" }).amountMinor).toBe("900719925474099312");
    expect(paymentNotificationSchema.safeParse({ ...base, amountMinor: 1.5 }).success).toBe(false);
    expect(paymentNotificationSchema.safeParse({ ...base, amountMinor: "007" }).success).toBe(false);
    expect(paymentNotificationSchema.safeParse({ ...base, currency: "XYZ", amountMinor: 1 }).success).toBe(false);
    expect(paymentNotificationSchema.parse({ ...base, currency: "kwd", amountMinor: 1 }).currency).toBe("KWD");
  });
});
