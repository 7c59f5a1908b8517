import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountFixture, api, startTestStack } from "./stack.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

type Role = "admin" | "ops" | "manager" | "agency";
const ADMIN: Role[] = ["admin"];
const OPERATE: Role[] = ["admin", "ops"];
const READ: Role[] = ["admin", "ops", "manager"];

/**
 * Who may call what, written out here on its own (not read from api/access.ts): the walk below
 * fails for a route of the OpenAPI document missing here, so a new route needs a decision.
 * "public": no key needed (health, vendor webhooks signed by the vendor, signed unsubscribe links).
 */
const EXPECTED: Record<string, Role[] | "public"> = {
  "GET /healthz": "public",
  "GET /readyz": "public",
  "POST /v1/accounts": OPERATE,
  "GET /v1/accounts": OPERATE,
  "GET /v1/accounts/{id}": OPERATE,
  "POST /v1/accounts/import": OPERATE,
  "GET /v1/imports": READ,
  "GET /v1/imports/{id}": READ,
  "GET /v1/imports/{id}/rejections": READ,
  "POST /v1/accounts/{id}/holds": OPERATE,
  "DELETE /v1/accounts/{id}/holds/{kind}": OPERATE,
  "POST /v1/accounts/{id}/opt-outs": OPERATE,
  "DELETE /v1/accounts/{id}/opt-outs/{channel}": OPERATE,
  "POST /v1/accounts/{id}/promises": OPERATE,
  "POST /v1/accounts/{id}/payments": OPERATE,
  "GET /v1/payments/unmatched": OPERATE,
  "POST /v1/payments/unmatched/{reference}/assign": OPERATE,
  "POST /v1/payments/unmatched/{reference}/dismiss": OPERATE,
  "GET /v1/accounts/{id}/compliance": READ,
  "GET /v1/accounts/{id}/decisions": READ,
  "POST /v1/compliance/evaluate": OPERATE,
  "GET /v1/compliance/policies/{jurisdiction}": READ,
  "GET /v1/campaigns": READ,
  "POST /v1/campaigns": OPERATE,
  "GET /v1/campaigns/{id}": READ,
  "PATCH /v1/campaigns/{id}": OPERATE,
  "DELETE /v1/campaigns/{id}": OPERATE,
  "POST /v1/campaigns/{id}/launch": OPERATE,
  "POST /v1/campaigns/{id}/pause": OPERATE,
  "POST /v1/campaigns/{id}/resume": OPERATE,
  "POST /v1/campaigns/{id}/cancel": OPERATE,
  "GET /v1/campaigns/{id}/summary": READ,
  "GET /v1/campaigns/{id}/report": READ,
  "GET /v1/campaigns/{id}/report/variants": READ,
  "GET /v1/reports/roll-rates": READ,
  "GET /v1/reports/cure": READ,
  "GET /v1/reports/agencies": READ,
  "GET /v1/reports/shared-phones": OPERATE,
  "POST /v1/reports/snapshots": OPERATE,
  "GET /v1/reports/settings": READ,
  "PUT /v1/reports/settings": ADMIN,
  "GET /v1/reports/unit-costs": READ,
  "POST /v1/reports/unit-costs": ADMIN,
  "GET /v1/templates": READ,
  "POST /v1/templates": OPERATE,
  "GET /v1/templates/{name}/{channel}/{locale}": READ,
  "POST /v1/templates/preview": OPERATE,
  "POST /v1/templates/{name}/{channel}/{locale}/preview": OPERATE,
  "POST /v1/webhooks/twilio/status": "public",
  "POST /v1/webhooks/twilio/inbound": "public",
  "POST /v1/webhooks/twilio/voice/status": "public",
  "POST /v1/webhooks/twilio/voice/attempts/{attemptId}": "public",
  "POST /v1/webhooks/twilio/voice/attempts/{attemptId}/menu": "public",
  "POST /v1/webhooks/twilio/voice/attempts/{attemptId}/promise-date": "public",
  "POST /v1/webhooks/twilio/voice/attempts/{attemptId}/promise-confirm": "public",
  "POST /v1/webhooks/sendgrid/events": "public",
  "POST /v1/webhooks/payments": "public",
  "POST /v1/webhooks/agencies/{agencyId}": "public",
  "GET /v1/unsubscribe/{token}": "public",
  "POST /v1/unsubscribe/{token}": "public",
  "POST /v1/agencies": OPERATE,
  "GET /v1/agencies": READ,
  "POST /v1/agencies/{id}/credentials": ADMIN,
  "DELETE /v1/agencies/{id}/credentials": ADMIN,
  "GET /v1/placements": ["admin", "ops", "manager", "agency"],
  "POST /v1/api-keys": ADMIN,
  "GET /v1/api-keys": ADMIN,
  "DELETE /v1/api-keys/{id}": ADMIN,
  "GET /v1/audit": ADMIN,
};

type Caller = Role | "no key" | "revoked key" | "unknown key";
const CALLERS: Caller[] = ["admin", "ops", "manager", "agency", "no key", "revoked key", "unknown key"];

async function keysByCaller(): Promise<Record<Caller, string | null>> {
  const agency = await api(stack.apiUrl, "POST", "/v1/agencies", {
    name: `Access ${randomUUID()}`,
    endpoint: "http://127.0.0.1:9/notices",
    commissionBps: 1000,
  });
  expect(agency.status).toBe(201);
  const make = async (role: Role) => {
    const created = await api(stack.apiUrl, "POST", "/v1/api-keys", { name: `walk ${role}`, role, ...(role === "agency" ? { agencyId: agency.body.id } : {}) });
    expect(created.status).toBe(201);
    return created.body as { id: string; key: string };
  };
  const revoked = await make("ops");
  expect((await api(stack.apiUrl, "DELETE", `/v1/api-keys/${revoked.id}`)).status).toBe(200);
  return {
    admin: stack.adminKey,
    ops: (await make("ops")).key,
    manager: (await make("manager")).key,
    agency: (await make("agency")).key,
    "no key": null,
    "revoked key": revoked.key,
    "unknown key": `tagih_adm_${randomBytes(32).toString("base64url")}`,
  };
}

/** Whether the access check (not the route) refused: its 401 challenge, or its 403 naming the role or the missing rule. */
function refusedByAccess(response: { status: number; body: any; headers: Headers }): boolean {
  if (response.status === 401) return /^Bearer realm="tagih"/.test(response.headers.get("www-authenticate") ?? "");
  return response.status === 403 && /role may not|no access rule/.test(String(response.body?.detail));
}

describe("access by role", () => {
  it("refuses or allows every route of the OpenAPI document for every role, a missing, a revoked and an unknown key", async () => {
    const keys = await keysByCaller();
    const doc = (await api(stack.apiUrl, "GET", "/openapi.json", undefined, { key: null })).body as { paths: Record<string, Record<string, unknown>> };
    const walked: string[] = [];
    const wrong: string[] = [];
    for (const [pattern, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item).map((m) => m.toUpperCase())) {
        const route = `${method} ${pattern}`;
        walked.push(route);
        const expected = EXPECTED[route];
        if (!expected) {
          wrong.push(`${route}: not in this test's table`);
          continue;
        }
        const path = pattern.replace(/\{[^}]+\}/g, () => randomUUID());
        for (const caller of CALLERS) {
          const response = await api(stack.apiUrl, method, path, method === "GET" || method === "DELETE" ? undefined : {}, {
            key: keys[caller],
            headers: { accept: "application/json" },
          });
          const refused = refusedByAccess(response);
          let ok: boolean;
          if (expected === "public") ok = !refused;
          else if (caller === "no key" || caller === "revoked key" || caller === "unknown key") ok = response.status === 401 && refused;
          else if (expected.includes(caller)) ok = response.status !== 401 && response.status !== 403;
          else ok = response.status === 403 && refused;
          if (!ok) wrong.push(`${route} as ${caller}: ${response.status} ${JSON.stringify(response.body)?.slice(0, 200)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    // The walk saw this branch's routes, including the ones added with the keys.
    expect(walked).toEqual(expect.arrayContaining(["GET /v1/placements", "POST /v1/api-keys", "GET /v1/audit", "POST /v1/campaigns/{id}/launch"]));
  });

  // Before, both were a 403 "no access rule lists …", read by ops as a missing permission.
  it("answers a path nothing serves 404, and a method a path does not take 405 with Allow, once the key is valid", async () => {
    const missing = await api(stack.apiUrl, "GET", "/v1/campaign");
    expect([missing.status, missing.contentType]).toEqual([404, expect.stringContaining("application/problem+json")]);
    const wrongMethod = await api(stack.apiUrl, "PUT", `/v1/campaigns/${randomUUID()}`, {});
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET, PATCH, DELETE");
    // Without a key, nothing is told about what exists.
    expect((await api(stack.apiUrl, "GET", "/v1/campaign", undefined, { key: null })).status).toBe(401);
  });

  it("serves the API's description without a key, and declares bearer keys in it", async () => {
    const doc = await api(stack.apiUrl, "GET", "/openapi.json", undefined, { key: null });
    expect(doc.status).toBe(200);
    expect(doc.body.components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.body.security).toEqual([{ apiKey: [] }]);
    expect(doc.body.paths["/healthz"].get.security).toEqual([]);
    // Vendor webhooks need no key: they name the signature they are checked by.
    expect(doc.body.components.securitySchemes.twilioSignature).toMatchObject({ type: "apiKey", in: "header", name: "X-Twilio-Signature" });
    expect(doc.body.paths["/v1/webhooks/twilio/status"].post.security).toEqual([{ twilioSignature: [] }]);
    expect(doc.body.paths["/v1/webhooks/sendgrid/events"].post.security).toEqual([{ sendgridSignature: [] }]);
    expect(doc.body.paths["/v1/webhooks/payments"].post.security).toEqual([{ tagihSignature: [] }]);
    expect(doc.body.paths["/v1/audit"].get.description).toContain("**Roles:** admin.");
    expect(doc.body.paths["/v1/campaigns"].post.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "Idempotency-Key", in: "header" })]),
    );
    const page = await fetch(`${stack.apiUrl}/docs`);
    expect(page.status).toBe(200);
  });

  it("shows an agency's key only its own placements; staff see every agency's", async () => {
    const agencies = await Promise.all(
      [1, 2].map(async () => {
        const created = await api(stack.apiUrl, "POST", "/v1/agencies", {
          name: `Placements ${randomUUID()}`,
          endpoint: "http://127.0.0.1:9/n",
          commissionBps: 500,
        });
        return created.body.id as string;
      }),
    );
    const accounts = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [accountFixture(), accountFixture()] });
    expect(accounts.status).toBe(200);
    const placed = await Promise.all(
      agencies.map((agencyId, i) =>
        stack.db.placement.create({ data: { agencyId, accountId: accounts.body.accounts[i].id, amountMinor: 1000n + BigInt(i), currency: "IDR" } }),
      ),
    );
    const agencyKey = (await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "agency one", role: "agency", agencyId: agencies[0] })).body.key as string;
    const manager = (await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "manager", role: "manager" })).body.key as string;

    const own = await api(stack.apiUrl, "GET", "/v1/placements?limit=500", undefined, { key: agencyKey });
    expect(own.status).toBe(200);
    expect(own.body.items.map((p: { id: string }) => p.id)).toEqual([placed[0]!.id]);
    expect(own.body.items[0]).toMatchObject({ agencyId: agencies[0], amountMinor: "1000", currency: "IDR", status: "placed" });
    const theirs = await api(stack.apiUrl, "GET", `/v1/placements?agencyId=${agencies[1]}`, undefined, { key: agencyKey });
    expect(theirs.body.items).toEqual([]);

    const all = await api(stack.apiUrl, "GET", "/v1/placements?limit=500", undefined, { key: manager });
    expect(all.body.items.map((p: { id: string }) => p.id)).toEqual(expect.arrayContaining(placed.map((p) => p.id)));
    const second = await api(stack.apiUrl, "GET", `/v1/placements?agencyId=${agencies[1]}`, undefined, { key: manager });
    expect(second.body.items.map((p: { id: string }) => p.id)).toEqual([placed[1]!.id]);
  });
});
