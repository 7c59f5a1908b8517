import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { postgresConfig } from "../runtime/database-url.ts";
import { accountFixture, api, eventually, startTestStack } from "./stack.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let sql: pg.Client;
beforeAll(async () => {
  stack = await startTestStack({ TAGIH_MAX_BODY_BYTES: "65536" });
  sql = new pg.Client(postgresConfig(inject("databaseUrl")));
  await sql.connect();
});
afterAll(async () => {
  await sql?.end();
  await stack?.stop();
});

const campaignBody = (name: string, product = `none-${randomUUID()}`) => ({
  name,
  strategy: { steps: [{ id: "w", kind: "wait", duration: "P1D" }] },
  segment: { products: [product] },
});
const keyed = (key: string) => ({ headers: { "idempotency-key": key } });

describe("Idempotency-Key", () => {
  it("replays the first response to a retry with the same body, once created", async () => {
    const name = `Replayed ${randomUUID()}`;
    const key = randomUUID();
    const first = await api(stack.apiUrl, "POST", "/v1/campaigns", campaignBody(name, "p"), keyed(key));
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const retry = await api(stack.apiUrl, "POST", "/v1/campaigns", campaignBody(name, "p"), keyed(key));
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.contentType).toBe("application/json");
    expect(retry.body).toEqual(first.body);
    expect(await stack.db.campaign.count({ where: { name } })).toBe(1);

    // Without the header, or with another key, the request runs again.
    expect((await api(stack.apiUrl, "POST", "/v1/campaigns", campaignBody(name, "p"))).body.id).not.toBe(first.body.id);
    expect((await api(stack.apiUrl, "POST", "/v1/campaigns", campaignBody(name, "p"), keyed(randomUUID()))).body.id).not.toBe(first.body.id);
  });

  it("refuses the same key with another body (422), and keeps each client's keys apart", async () => {
    const key = randomUUID();
    expect((await api(stack.apiUrl, "POST", "/v1/campaigns", campaignBody("One"), keyed(key))).status).toBe(201);
    const other = await api(stack.apiUrl, "POST", "/v1/campaigns", campaignBody("Another"), keyed(key));
    expect(other.status).toBe(422);
    expect(other.contentType).toBe("application/problem+json");
    expect(other.body.errors[0].field).toBe("header.Idempotency-Key");

    const ops = (await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "second client", role: "ops" })).body.key as string;
    const theirs = await api(stack.apiUrl, "POST", "/v1/campaigns", campaignBody("Another"), { key: ops, ...keyed(key) });
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get("idempotent-replayed")).toBeNull();
  });

  it.each([["x".repeat(256)], [""], ["tab\tinside"]])("refuses the malformed key %j with a 400 naming the header", async (key) => {
    const response = await api(stack.apiUrl, "POST", "/v1/campaigns", campaignBody("Bad key"), keyed(key));
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: "header.Idempotency-Key", reason: "must be 1 to 255 printable ASCII characters" }]);
  });

  it("answers 409 to a duplicate launch while the first is still running, then replays the first's answer", async () => {
    const product = `launch-${randomUUID()}`;
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [accountFixture({ product })] })).status).toBe(200);
    const id = (await api(stack.apiUrl, "POST", "/v1/campaigns", campaignBody("Slow launch", product))).body.id as string;
    const key = randomUUID();
    // Holding the campaign's row keeps the first launch in flight at its status update.
    await sql.query("BEGIN");
    await sql.query("SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE", [id]);
    let first: ReturnType<typeof api> | undefined;
    try {
      first = api(stack.apiUrl, "POST", `/v1/campaigns/${id}/launch`, undefined, keyed(key));
      await eventually(
        async () => ((await sql.query("SELECT 1 FROM idempotency_keys WHERE key = $1 AND status IS NULL", [key])).rowCount ? true : undefined),
        "the claim",
      );
      const duplicate = await api(stack.apiUrl, "POST", `/v1/campaigns/${id}/launch`, undefined, keyed(key));
      expect(duplicate.status).toBe(409);
      expect(duplicate.contentType).toBe("application/problem+json");
    } finally {
      await sql.query("COMMIT");
    }
    const launched = await first!;
    expect(launched.status).toBe(202);
    const retry = await api(stack.apiUrl, "POST", `/v1/campaigns/${id}/launch`, undefined, keyed(key));
    expect(retry.status).toBe(202);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body).toEqual(launched.body);
    await api(stack.apiUrl, "POST", `/v1/campaigns/${id}/cancel`);
  });

  it("refuses the same key for a launch of another campaign (422): the path names what the request does", async () => {
    const [one, other] = await Promise.all(
      ["Launched once", "Not launched by a replay"].map(
        async (name) => (await api(stack.apiUrl, "POST", "/v1/campaigns", campaignBody(name))).body.id as string,
      ),
    );
    const key = randomUUID();
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${one}/launch`, undefined, keyed(key))).status).toBe(202);
    const reused = await api(stack.apiUrl, "POST", `/v1/campaigns/${other}/launch`, undefined, keyed(key));
    expect(reused.status).toBe(422);
    expect(reused.headers.get("idempotent-replayed")).toBeNull();
    expect((await stack.db.campaign.findUniqueOrThrow({ where: { id: other } })).status).toBe("draft");
    await api(stack.apiUrl, "POST", `/v1/campaigns/${one}/cancel`);
  });

  it("gives the key up after a server error, so the retry runs again", async () => {
    const name = `Fails once ${randomUUID()}`;
    const key = randomUUID();
    // A real database failure for this campaign's insert only.
    const trigger = `fail_${randomUUID().replaceAll("-", "")}`;
    await sql.query(`CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$`);
    await sql.query(`CREATE TRIGGER ${trigger} BEFORE INSERT ON campaigns FOR EACH ROW WHEN (NEW.name = '${name}') EXECUTE FUNCTION ${trigger}()`);
    try {
      expect((await api(stack.apiUrl, "POST", "/v1/campaigns", campaignBody(name, "p"), keyed(key))).status).toBe(500);
    } finally {
      await sql.query(`DROP TRIGGER ${trigger} ON campaigns`);
      await sql.query(`DROP FUNCTION ${trigger}()`);
    }
    const retry = await api(stack.apiUrl, "POST", "/v1/campaigns", campaignBody(name, "p"), keyed(key));
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    expect(await stack.db.campaign.count({ where: { name } })).toBe(1);
  });

  it("forgets a key after 24 hours", async () => {
    const name = `Old key ${randomUUID()}`;
    const key = randomUUID();
    const first = await api(stack.apiUrl, "POST", "/v1/campaigns", campaignBody(name, "p"), keyed(key));
    await sql.query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1", [key]);
    const later = await api(stack.apiUrl, "POST", "/v1/campaigns", campaignBody(name, "p"), keyed(key));
    expect(later.status).toBe(201);
    expect(later.headers.get("idempotent-replayed")).toBeNull();
    expect(later.body.id).not.toBe(first.body.id);
  });
});

describe("request bodies", () => {
  it("over the configured size get 413, and only after the key is checked", async () => {
    const big = JSON.stringify({ accounts: [accountFixture({ name: "x".repeat(70_000) })] });
    const refused = await api(stack.apiUrl, "POST", "/v1/accounts", big);
    expect(refused.status).toBe(413);
    expect(refused.contentType).toBe("application/problem+json");
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", big, { key: null })).status).toBe(401);
  });

  it("streamed without a declared length are measured as they arrive", async () => {
    const streamed = (text: string) =>
      fetch(`${stack.apiUrl}/v1/accounts`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${stack.adminKey}` },
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(text));
            controller.close();
          },
        }),
        duplex: "half",
      } as RequestInit);
    const refused = await streamed(JSON.stringify({ accounts: [accountFixture({ name: "x".repeat(70_000) })] }));
    expect(refused.status).toBe(413);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    const accepted = await streamed(JSON.stringify({ accounts: [accountFixture()] }));
    expect(accepted.status).toBe(200);
  });
});
