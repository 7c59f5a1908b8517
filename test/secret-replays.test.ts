import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { postgresConfig } from "../runtime/database-url.ts";
import { api, eventually, startTestStack } from "./stack.ts";

// Routes whose answer shows a secret once: a retry under the same Idempotency-Key must not
// show it again, and the idempotency table must never hold it.
let stack: Awaited<ReturnType<typeof startTestStack>>;
let sql: pg.Client;
beforeAll(async () => {
  stack = await startTestStack();
  sql = new pg.Client(postgresConfig(inject("databaseUrl")));
  await sql.connect();
});
afterAll(async () => {
  await sql?.end();
  await stack?.stop();
});

const keyed = (key: string) => ({ headers: { "idempotency-key": key } });
/** Every column of the key's row as text: where a secret would show if it were kept. */
const storedRow = async (key: string) => (await sql.query<{ row: string }>("SELECT t::text AS row FROM idempotency_keys t WHERE key = $1", [key])).rows;

describe("Idempotency-Key on routes that show a secret once", () => {
  it("POST /v1/api-keys keeps no key in idempotency_keys and answers a retry 409 naming the key it created", async () => {
    const key = randomUUID();
    const body = { name: `desk ${key}`, role: "ops" };
    const first = await api(stack.apiUrl, "POST", "/v1/api-keys", body, keyed(key));
    expect(first.status).toBe(201);
    const { id, key: secret } = first.body as { id: string; key: string };
    expect(secret).toMatch(/^tagih_ops_/);

    const rows = await storedRow(key);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.row).not.toContain(secret);
    expect(rows[0]!.row).not.toContain(secret.slice("tagih_ops_".length));

    const retry = await api(stack.apiUrl, "POST", "/v1/api-keys", body, keyed(key));
    expect(retry.status).toBe(409);
    expect(retry.contentType).toBe("application/problem+json");
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body).toMatchObject({ title: "Conflict", status: 409, id });
    expect(retry.body.detail).toContain(`API key ${id} was created by the first request with Idempotency-Key ${key}`);
    expect(retry.body.detail).toContain("shown once, in that answer");
    expect(retry.body.detail).toContain(`revoke it (DELETE /v1/api-keys/${id}) and create another`);
    expect(JSON.stringify(retry.body)).not.toContain(secret);
    expect(await stack.db.apiKey.count({ where: { name: body.name } })).toBe(1);

    // The key made by the first request works; the id the retry names is the one to revoke.
    expect((await api(stack.apiUrl, "GET", "/v1/campaigns", undefined, { key: secret })).status).toBe(200);
    expect((await api(stack.apiUrl, "DELETE", `/v1/api-keys/${id}`)).status).toBe(200);
    expect((await api(stack.apiUrl, "GET", "/v1/campaigns", undefined, { key: secret })).status).toBe(401);

    const other = await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "another desk", role: "ops" }, keyed(key));
    expect(other.status).toBe(422);
    expect(other.body.errors[0].field).toBe("header.Idempotency-Key");
  });

  it("POST /v1/agencies keeps neither apiKey nor secret in idempotency_keys, and a duplicate in flight gets 409", async () => {
    const key = randomUUID();
    const body = { name: `Agency ${key}`, endpoint: "https://agency.example.com/notices", commissionBps: 1500 };
    // Holding the agencies table keeps the first registration in flight at its insert.
    await sql.query("BEGIN");
    await sql.query("LOCK TABLE agencies IN EXCLUSIVE MODE");
    let first: ReturnType<typeof api> | undefined;
    try {
      first = api(stack.apiUrl, "POST", "/v1/agencies", body, keyed(key));
      await eventually(
        async () => ((await sql.query("SELECT 1 FROM idempotency_keys WHERE key = $1 AND status IS NULL", [key])).rowCount ? true : undefined),
        "the claim",
      );
      const duplicate = await api(stack.apiUrl, "POST", "/v1/agencies", body, keyed(key));
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.detail).toContain("still in progress");
    } finally {
      await sql.query("COMMIT");
    }
    const registered = await first!;
    expect(registered.status).toBe(201);
    const { id, apiKey, secret } = registered.body as { id: string; apiKey: string; secret: string };

    const [row] = await storedRow(key);
    expect(row!.row).not.toContain(apiKey);
    expect(row!.row).not.toContain(secret);

    const retry = await api(stack.apiUrl, "POST", "/v1/agencies", body, keyed(key));
    expect(retry.status).toBe(409);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body.id).toBe(id);
    expect(retry.body.detail).toContain(`agency ${id} was created by the first request`);
    expect(retry.body.detail).toContain("apiKey and secret were shown once");
    expect(retry.body.detail).toContain(`POST /v1/agencies/${id}/credentials`);
    expect(JSON.stringify(retry.body)).not.toContain(apiKey);
    expect(JSON.stringify(retry.body)).not.toContain(secret);
    expect(await stack.db.agency.count({ where: { name: body.name } })).toBe(1);
  });

  it("replays a refusal as other routes do: it carries no secret", async () => {
    const key = randomUUID();
    const first = await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "root", role: "root" }, keyed(key));
    expect(first.status).toBe(400);
    const retry = await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "root", role: "root" }, keyed(key));
    expect(retry.status).toBe(400);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body).toEqual(first.body);
  });

  it("documents the secret routes' replay in the OpenAPI document", async () => {
    const doc = (await api(stack.apiUrl, "GET", "/openapi.json")).body;
    const header = (path: string) =>
      (doc.paths[path].post.parameters as { name: string; description: string }[]).find((p) => p.name === "Idempotency-Key")!.description;
    expect(header("/v1/api-keys")).toContain("gets 409 naming the `id` it created");
    expect(header("/v1/campaigns")).toContain("gets the first response again");
  });
});
