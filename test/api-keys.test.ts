import { createHash, randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { postgresConfig } from "../runtime/database-url.ts";
import { accountFixture, api, eventually, startTestStack } from "./stack.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("API keys", () => {
  it("shows a new key once, stores only its hash, and refuses it from the moment it is revoked", async () => {
    const created = await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "ops desk", role: "ops" });
    expect(created.status).toBe(201);
    const { key, id } = created.body as { key: string; id: string };
    expect(key).toMatch(/^tagih_ops_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ name: "ops desk", role: "ops", agencyId: null, revokedAt: null });

    const row = await stack.db.apiKey.findUniqueOrThrow({ where: { id } });
    expect(row.keyHash).toBe(sha256(key));
    expect(JSON.stringify(row)).not.toContain(key);

    const listed = await api(stack.apiUrl, "GET", "/v1/api-keys?limit=500");
    const shown = (listed.body.items as { id: string }[]).find((k) => k.id === id);
    expect(shown).toMatchObject({ id, name: "ops desk", role: "ops" });
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect(JSON.stringify(listed.body)).not.toContain(row.keyHash);

    const campaign = { name: "By ops", strategy: { steps: [{ id: "s", kind: "contact", channel: "sms", template: "reminder" }] }, segment: {} };
    expect((await api(stack.apiUrl, "POST", "/v1/campaigns", campaign, { key })).status).toBe(201);
    await eventually(async () => (await stack.db.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt ?? undefined, "the key's last use");
    const revoked = await api(stack.apiUrl, "DELETE", `/v1/api-keys/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    const refused = await api(stack.apiUrl, "POST", "/v1/campaigns", campaign, { key });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(refused.contentType).toBe("application/problem+json");
  });

  it("asks an agency key for its agency, and only an agency key", async () => {
    const missing = await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "agency", role: "agency" });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([{ field: "agencyId", reason: "is required for the agency role" }]);
    const unknown = await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "agency", role: "agency", agencyId: randomUUID() });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].field).toBe("agencyId");
    const misplaced = await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "ops", role: "ops", agencyId: randomUUID() });
    expect(misplaced.body.errors).toEqual([{ field: "agencyId", reason: "is only for the agency role" }]);
    const badRole = await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "root", role: "root" });
    expect(badRole.status).toBe(400);
    expect(badRole.body.errors[0].field).toBe("role");
  });

  it("records launches, pauses and key changes in the audit log, which only admins read", async () => {
    const ops = (await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "auditing ops", role: "ops" })).body as { id: string; key: string };
    // One account that waits a day: the campaign stays running while it is paused and cancelled.
    const product = `audited-${randomUUID()}`;
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [accountFixture({ product })] })).status).toBe(200);
    const campaign = await api(
      stack.apiUrl,
      "POST",
      "/v1/campaigns",
      { name: "Audited", strategy: { steps: [{ id: "w", kind: "wait", duration: "P1D" }] }, segment: { products: [product] } },
      { key: ops.key },
    );
    const id = campaign.body.id as string;
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${id}/launch`, undefined, { key: ops.key })).status).toBe(202);
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${id}/pause`, undefined, { key: ops.key })).status).toBe(200);
    // A no-op (already paused) changes nothing and records nothing.
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${id}/pause`, undefined, { key: ops.key })).status).toBe(200);
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${id}/cancel`)).status).toBe(200);
    expect((await api(stack.apiUrl, "DELETE", `/v1/api-keys/${ops.id}`)).status).toBe(200);

    const log = await api(stack.apiUrl, "GET", "/v1/audit?limit=500");
    expect(log.status).toBe(200);
    const entries = (log.body.items as { actor: string; action: string; target: { type: string; id: string }; at: string }[]).filter(
      (e) => e.target.id === id || e.target.id === ops.id,
    );
    const admin = await adminKeyId();
    expect(entries.map((e) => [e.action, e.actor])).toEqual([
      ["api-key.revoke", admin],
      ["campaign.cancel", admin],
      ["campaign.pause", ops.id],
      ["campaign.launch", ops.id],
      ["campaign.create", ops.id],
      ["api-key.create", admin],
    ]);
    const ats = (log.body.items as { at: string }[]).map((e) => e.at);
    expect([...ats].sort().reverse()).toEqual(ats);

    const launches = await api(stack.apiUrl, "GET", "/v1/audit?action=campaign.launch&limit=500");
    expect(new Set(launches.body.items.map((e: { action: string }) => e.action))).toEqual(new Set(["campaign.launch"]));
    const firstPage = await api(stack.apiUrl, "GET", "/v1/audit?limit=1");
    const secondPage = await api(stack.apiUrl, "GET", `/v1/audit?limit=1&cursor=${firstPage.body.nextCursor}`);
    expect(secondPage.body.items[0].id).toBe(log.body.items[1].id);

    const manager = (await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "reader", role: "manager" })).body.key as string;
    expect((await api(stack.apiUrl, "GET", "/v1/audit", undefined, { key: manager })).status).toBe(403);
  });
});

async function adminKeyId(): Promise<string> {
  return (await stack.db.apiKey.findUniqueOrThrow({ where: { keyHash: sha256(stack.adminKey) } })).id;
}

describe("the first admin key", () => {
  it("is generated once on a new database (for the start-up banner), then never again; the last admin key cannot be revoked", async () => {
    const name = `tagih_first_key_${randomUUID().replaceAll("-", "")}`;
    const serverUrl = inject("databaseUrl").replace(/\/tagih_test$/, "/postgres");
    const admin = new pg.Client(postgresConfig(serverUrl));
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      const env = { DATABASE_URL: serverUrl.replace(/\/postgres$/, `/${name}`), TAGIH_ADMIN_API_KEY: "" };
      const first = await startTestStack(env);
      let generated: string | undefined;
      try {
        generated = first.generatedAdminKey;
        expect(generated).toMatch(/^tagih_adm_[A-Za-z0-9_-]{43}$/);
        const keys = await api(first.apiUrl, "GET", "/v1/api-keys", undefined, { key: generated });
        expect(keys.status).toBe(200);
        expect(keys.body.items).toEqual([expect.objectContaining({ role: "admin", name: "first admin key", createdBy: null })]);
        const only = keys.body.items[0].id as string;
        const last = await api(first.apiUrl, "DELETE", `/v1/api-keys/${only}`, undefined, { key: generated });
        expect(last.status).toBe(409);
      } finally {
        await first.stop();
      }
      const second = await startTestStack(env);
      try {
        expect(second.generatedAdminKey).toBeUndefined();
        expect((await api(second.apiUrl, "GET", "/v1/api-keys", undefined, { key: generated })).body.items).toHaveLength(1);
      } finally {
        await second.stop();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it("comes from TAGIH_ADMIN_API_KEY, stored by its hash", async () => {
    const row = await stack.db.apiKey.findUniqueOrThrow({ where: { keyHash: sha256(stack.adminKey) } });
    expect(row).toMatchObject({ role: "admin", name: "TAGIH_ADMIN_API_KEY", revokedAt: null });
    expect(stack.generatedAdminKey).toBeUndefined();
  });
});
