import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountFixture, api, startTestStack } from "./stack.ts";

// Every listing of the OpenAPI document that takes ?cursor= must refuse a cursor it did not
// issue with a 400 naming it: a forged key used to reach PostgreSQL and answer 500.
let stack: Awaited<ReturnType<typeof startTestStack>>;
let listings: string[];
beforeAll(async () => {
  stack = await startTestStack();
  const doc = (await api(stack.apiUrl, "GET", "/openapi.json")).body as {
    paths: Record<string, { get?: { parameters?: { name: string; in: string }[] } }>;
  };
  listings = Object.entries(doc.paths)
    .filter(([, item]) => item.get?.parameters?.some((p) => p.name === "cursor" && p.in === "query"))
    .map(([path]) => path);
  // Something on every page, so the listings issue real cursors too.
  await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [accountFixture(), accountFixture()] });
  await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "cursor desk", role: "ops" });
  for (const name of ["Cursor one", "Cursor two"]) {
    await api(stack.apiUrl, "POST", "/v1/campaigns", { name, strategy: { steps: [{ id: "w", kind: "wait", duration: "P1D" }] }, segment: {} });
    await api(stack.apiUrl, "POST", "/v1/agencies", { name: `${name} ${randomUUID()}`, endpoint: "https://agency.example.com", commissionBps: 0 });
  }
});
afterAll(async () => {
  await stack?.stop();
});

const cursor = (json: string) => Buffer.from(json).toString("base64url");
// None is a cursor any listing issues, whatever its keys: a wrong count is refused as well.
const FORGED = [
  '{"k":["x"]}',
  '{"k":["x\\u0000"]}',
  '{"k":["not-a-date","x"]}',
  '{"k":["2026-01-01T00:00:00Z","not-a-uuid"]}',
  '{"k":["2026-01-01T00:00:00.000Z","not-a-uuid"]}',
  '{"k":["x\\u0000","sms","id-ID"]}',
  '{"k":[{}]}',
];
const concrete = (path: string) => path.replace(/\{[^}]+\}/g, randomUUID());

describe("listing cursors", () => {
  it("are taken by the listings this test expects", () => {
    expect(listings).toEqual(
      expect.arrayContaining(["/v1/accounts", "/v1/campaigns", "/v1/audit", "/v1/placements", "/v1/api-keys", "/v1/imports", "/v1/payments/unmatched"]),
    );
  });

  it("forged are answered 400 naming query.cursor by every listing", async () => {
    const answers: { path: string; forged: string; status: number; field?: string }[] = [];
    for (const path of listings) {
      for (const forged of FORGED) {
        // /v1/agencies pages by name: a plain "x" is a name it could have issued.
        if (path === "/v1/agencies" && forged === '{"k":["x"]}') continue;
        const answer = await api(stack.apiUrl, "GET", `${concrete(path)}?cursor=${cursor(forged)}`);
        answers.push({ path, forged, status: answer.status, field: answer.body?.errors?.[0]?.field });
      }
    }
    const expected = answers.map(({ path, forged }) => ({ path, forged, status: 400, field: "query.cursor" }));
    expect(answers).toEqual(expected);
  });

  it("issued are still followed to the next page", async () => {
    const followed: string[] = [];
    for (const path of listings.filter((p) => !p.includes("{"))) {
      const first = await api(stack.apiUrl, "GET", `${path}?limit=1`);
      expect(first.status, path).toBe(200);
      if (first.body.nextCursor === null) continue;
      const next = await api(stack.apiUrl, "GET", `${path}?limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`);
      expect(next.status, path).toBe(200);
      expect(next.body.items[0], path).not.toEqual(first.body.items[0]);
      followed.push(path);
    }
    expect(followed).toEqual(expect.arrayContaining(["/v1/accounts", "/v1/campaigns", "/v1/audit", "/v1/api-keys", "/v1/agencies"]));
  });
});
