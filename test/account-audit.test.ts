import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountFixture, api, startTestStack } from "./stack.ts";

// Ops actions that move money or pause journeys leave an audit entry naming the key that did
// them; a promise that is broken already, or larger than the debt, is refused.
let stack: Awaited<ReturnType<typeof startTestStack>>;
let ops: { id: string; key: string };
beforeAll(async () => {
  stack = await startTestStack();
  ops = (await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "ops desk", role: "ops" })).body as { id: string; key: string };
});
afterAll(async () => {
  await stack?.stop();
});

type Entry = { actor: string; action: string; target: { type: string; id: string | null }; detail: Record<string, unknown> };
const audit = async (action: string): Promise<Entry[]> => (await api(stack.apiUrl, "GET", `/v1/audit?action=${action}&limit=500`)).body.items;
const asOps = () => ({ key: ops.key });
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

async function newAccount(overrides: Record<string, unknown> = {}) {
  const fixture = accountFixture(overrides);
  const stored = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [fixture] });
  return { ...fixture, id: stored.body.accounts[0].id as string };
}

describe("the audit log of account actions", () => {
  it("records POST /v1/accounts: who, which accounts by id and external id, how many created and updated, no personal data", async () => {
    const kept = accountFixture({ name: "Siti Rahayu", email: "siti@example.com" });
    const first = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [kept] }, asOps());
    expect(first.status).toBe(200);
    const added = accountFixture({ name: "Agus Wijaya" });
    const second = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [{ ...kept, balanceMinor: 1 }, added] }, asOps());
    expect(second.body).toMatchObject({ created: 1, updated: 1 });
    const [keptId, addedId] = (second.body.accounts as { id: string }[]).map((a) => a.id);

    const entries = (await audit("account.upsert")).filter((e) => e.actor === ops.id);
    expect(entries).toHaveLength(2);
    // Newest first: the batch that rewrote a balance.
    expect(entries[0]).toMatchObject({
      target: { type: "account", id: null },
      detail: {
        created: 1,
        updated: 1,
        accounts: [
          { id: keptId, externalId: kept.externalId, created: false },
          { id: addedId, externalId: added.externalId, created: true },
        ],
      },
    });
    expect(entries[1]).toMatchObject({ target: { type: "account", id: keptId }, detail: { created: 1, updated: 0 } });
    const text = JSON.stringify(entries);
    for (const personal of ["Siti Rahayu", "Agus Wijaya", "siti@example.com", kept.phone, added.phone]) expect(text).not.toContain(personal);
  });

  it("records POST /v1/accounts/{id}/payments once, with the account, amount, currency and reference", async () => {
    const account = await newAccount({ balanceMinor: 500_000 });
    const payment = { reference: `OPS-${account.externalId}`, amountMinor: "200000", currency: "IDR", paidAt: "2026-12-01T10:00:00+07:00" };
    expect((await api(stack.apiUrl, "POST", `/v1/accounts/${account.id}/payments`, payment, asOps())).status).toBe(200);
    // A repeat of the reference changes nothing, so it records nothing either.
    expect((await api(stack.apiUrl, "POST", `/v1/accounts/${account.id}/payments`, payment, asOps())).status).toBe(200);

    const entries = (await audit("payment.record")).filter((e) => e.target.id === payment.reference);
    expect(entries).toEqual([
      {
        actor: ops.id,
        action: "payment.record",
        target: { type: "payment", id: payment.reference },
        detail: { accountId: account.id, amountMinor: "200000", currency: "IDR", paidAt: "2026-12-01T03:00:00.000Z" },
        id: expect.any(String),
        at: expect.any(String),
      },
    ]);
    expect((await api(stack.apiUrl, "GET", `/v1/accounts/${account.id}`)).body.balanceMinor).toBe("300000");
  });

  it("records POST /v1/accounts/{id}/promises with the amount, currency and due date", async () => {
    const account = await newAccount({ balanceMinor: 500_000 });
    const promised = await api(stack.apiUrl, "POST", `/v1/accounts/${account.id}/promises`, { amountMinor: "500000", dueDate: day(3) }, asOps());
    expect(promised.status).toBe(200);
    const entries = (await audit("account.promise")).filter((e) => e.target.id === account.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: ops.id, detail: { amountMinor: "500000", currency: "IDR", dueDate: day(3), source: "ops" } });
    const shown = (await api(stack.apiUrl, "GET", `/v1/accounts/${account.id}`)).body.promises as { id: string }[];
    expect(shown.map((p) => p.id)).toEqual([entries[0]!.detail.promiseId]);
  });
});

describe("POST /v1/accounts/{id}/promises", () => {
  // "Today" is the date where the day is earliest (UTC-12): a debtor anywhere may promise for their own today.
  it("refuses a dueDate before today or more than a year out with a 400 naming dueDate, and stores nothing", async () => {
    const account = await newAccount();
    const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const earliestToday = dayOf(Date.now() - 12 * 3_600_000);
    const yearOut = dayOf(Date.now() + 366 * 86_400_000);
    for (const [dueDate, reason] of [
      ["2020-01-01", `must be today (${earliestToday} where the day is earliest, UTC-12) or later`],
      [dayOf(Date.now() - 12 * 3_600_000 - 86_400_000), `must be today (${earliestToday} where the day is earliest, UTC-12) or later`],
      ["9999-12-31", `must be within a year (by ${yearOut})`],
      [day(400), `must be within a year (by ${yearOut})`],
    ] as const) {
      const refused = await api(stack.apiUrl, "POST", `/v1/accounts/${account.id}/promises`, { amountMinor: "1000", dueDate }, asOps());
      expect(refused.status).toBe(400);
      expect(refused.contentType).toBe("application/problem+json");
      expect(refused.body.errors).toEqual([{ field: "dueDate", reason }]);
    }
    expect((await api(stack.apiUrl, "GET", `/v1/accounts/${account.id}`)).body.promises).toEqual([]);
    expect((await audit("account.promise")).filter((e) => e.target.id === account.id)).toEqual([]);
    // Today is still a day to pay on, wherever it is today.
    expect((await api(stack.apiUrl, "POST", `/v1/accounts/${account.id}/promises`, { amountMinor: "1000", dueDate: earliestToday }, asOps())).status).toBe(200);
  });

  it("refuses an amount PostgreSQL cannot hold with a 400 naming amountMinor, not a 500", async () => {
    const account = await newAccount();
    for (const path of ["promises", "payments"]) {
      const body =
        path === "promises"
          ? { amountMinor: "99999999999999999999999", dueDate: day(1) }
          : { reference: `R-${account.id}`, amountMinor: "99999999999999999999999", currency: "IDR" };
      const refused = await api(stack.apiUrl, "POST", `/v1/accounts/${account.id}/${path}`, body, asOps());
      expect(refused.status).toBe(400);
      expect(refused.body.errors.map((e: { field: string }) => e.field)).toEqual(["amountMinor"]);
    }
  });

  it("refuses an amount above the account's balance with a 400 naming amountMinor", async () => {
    const account = await newAccount({ balanceMinor: 150_000 });
    const refused = await api(stack.apiUrl, "POST", `/v1/accounts/${account.id}/promises`, { amountMinor: "1500000", dueDate: day(1) }, asOps());
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ field: "amountMinor", reason: "must not exceed the account's balance 150000 IDR" }]);
    expect((await api(stack.apiUrl, "GET", `/v1/accounts/${account.id}`)).body.promises).toEqual([]);
    expect((await api(stack.apiUrl, "POST", `/v1/accounts/${account.id}/promises`, { amountMinor: "150000", dueDate: day(1) }, asOps())).status).toBe(200);
  });
});
