import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promiseSettlementSchedule } from "../runtime/schedules.ts";
import { signTagihPayload } from "../vendors/tagih-signature.ts";
import type { AccountState } from "../workflows/account-messages.ts";
import { accountFixture, api, eventually, startTestStack } from "./stack.ts";

const secret = `pay-${randomUUID()}`;
let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack({ TAGIH_PAYMENT_WEBHOOK_SECRET: secret });
});
afterAll(async () => {
  await stack?.stop();
});

const now = () => Math.floor(Date.now() / 1000);

/** Posts a payment notification signed as the gateway signs it (or with the given header, or none). */
async function notifyPayment(body: unknown, signature: string | null | ((raw: string) => string) = (raw) => signTagihPayload(secret, raw)) {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const header = typeof signature === "function" ? signature(raw) : signature;
  const response = await fetch(`${stack.apiUrl}/v1/webhooks/payments`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(header === null ? {} : { "x-tagih-signature": header }) },
    body: raw,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, contentType: response.headers.get("content-type") };
}

/** Stores accounts and launches a campaign over them that waits a week; returns once every journey runs. */
async function runningJourneys(accounts: Record<string, unknown>[]) {
  const product = `loan-${randomUUID()}`;
  const stored = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: accounts.map((a) => ({ ...a, product })) });
  expect(stored.status, JSON.stringify(stored.body)).toBe(200);
  const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", {
    name: "payments",
    strategy: {
      steps: [
        { id: "first-wait", kind: "wait", duration: "P7D" },
        { id: "sms", kind: "contact", channel: "sms", template: "reminder" },
      ],
    },
    segment: { products: [product] },
  });
  expect(campaign.status).toBe(201);
  expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.body.id}/launch`)).status).toBe(202);
  const enrolments = await eventually(async () => {
    const rows = await stack.db.enrolment.findMany({ where: { campaignId: campaign.body.id, status: "running" }, include: { account: true } });
    return rows.length === accounts.length ? rows : undefined;
  }, "running enrolments");
  for (const e of enrolments) await journeyState(e.workflowId, (s) => s.waitingFor === "wait step first-wait");
  return { campaignId: campaign.body.id as string, enrolments };
}

function journeyState(workflowId: string, until: (s: AccountState) => boolean) {
  return eventually(async () => {
    const state = await stack.temporal.workflow.getHandle(workflowId).query<AccountState>("accountState");
    return until(state) ? state : undefined;
  }, `journey ${workflowId} state`);
}

const payment = (externalId: string, overrides: Record<string, unknown> = {}) => ({
  reference: `PAY-${randomUUID()}`,
  accountExternalId: externalId,
  amountMinor: 150_000_000,
  currency: "IDR",
  paidAt: new Date().toISOString(),
  ...overrides,
});

const storedFor = async (reference: string) => ({
  callbacks: await stack.db.callback.count({ where: { vendor: "payments", eventId: reference } }),
  payments: await stack.db.payment.count({ where: { reference } }),
});

/** References of every unmatched payment, through the listing's pages of `limit`. */
async function unmatchedReferences(limit = 500): Promise<string[]> {
  const references: string[] = [];
  let cursor: string | null = "";
  while (cursor !== null) {
    const answer = await api(stack.apiUrl, "GET", `/v1/payments/unmatched?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.items.length).toBeLessThanOrEqual(limit);
    references.push(...answer.body.items.map((p: { reference: string }) => p.reference));
    cursor = answer.body.nextCursor;
  }
  return references;
}

/** An account fixture as a CSV row of the import's columns. */
const row = (a: ReturnType<typeof accountFixture>) =>
  [a.externalId, a.name, a.phone, a.jurisdiction, a.timeZone, a.product, a.currency, a.balanceMinor, a.daysPastDue].join(",");

describe("payment gateway notifications", () => {
  it("records a signed full payment once, lowers the balance and ends the running journey paid", async () => {
    const { enrolments } = await runningJourneys([accountFixture()]);
    const [e] = enrolments;
    const body = payment(e!.account.externalId, { amountMinor: "150000000" });

    const first = await notifyPayment(body);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toEqual({ reference: body.reference, accountId: e!.accountId, status: "recorded", signalled: 1 });

    const finished = await eventually(async () => {
      const row = await stack.db.enrolment.findUniqueOrThrow({ where: { id: e!.id } });
      return row.status === "finished" ? row : undefined;
    }, "the journey to end");
    expect(finished.outcome).toBe("paid");
    expect((await stack.db.account.findUniqueOrThrow({ where: { id: e!.accountId } })).balanceMinor).toBe(0n);
    const recorded = await stack.db.payment.findUniqueOrThrow({ where: { reference: body.reference } });
    expect(recorded).toMatchObject({ accountId: e!.accountId, amountMinor: 150_000_000n, currency: "IDR", paidAt: new Date(body.paidAt) });
    const [callback] = await stack.db.callback.findMany({ where: { vendor: "payments", eventId: body.reference } });
    expect(callback).toMatchObject({ kind: "payment", payload: body });
    expect(callback!.appliedAt).not.toBeNull();

    // The gateway delivers it again: a no-op.
    const again = await notifyPayment(body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: "duplicate", signalled: 0 });
    expect(await storedFor(body.reference)).toEqual({ callbacks: 1, payments: 1 });
    expect((await stack.db.account.findUniqueOrThrow({ where: { id: e!.accountId } })).balanceMinor).toBe(0n);
  });

  it("applies a notification delivered many times at once exactly once, by account id too", async () => {
    const { enrolments } = await runningJourneys([accountFixture()]);
    const [e] = enrolments;
    const body = payment("", { accountExternalId: undefined, accountId: e!.accountId, amountMinor: 40_000_000 });
    const answers = await Promise.all(Array.from({ length: 6 }, () => notifyPayment(body)));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(answers.filter((a) => a.body.status === "recorded")).toHaveLength(1);
    expect(await storedFor(body.reference)).toEqual({ callbacks: 1, payments: 1 });
    expect((await stack.db.account.findUniqueOrThrow({ where: { id: e!.accountId } })).balanceMinor).toBe(110_000_000n);
    // A partial payment lowers the journey's balance once; the journey goes on.
    const state = await journeyState(e!.workflowId, (s) => s.paidMinor !== "0");
    expect(state).toMatchObject({ balanceMinor: "110000000", paidMinor: "40000000", waitingFor: "wait step first-wait" });
  });

  it.each([
    ["no signature", null, 401],
    ["a header without t= and v1=", () => "sha256=abc", 403], // presented, but not a signature of ours
    ["another secret", (raw: string) => signTagihPayload("not-the-gateway-secret", raw), 403],
    ["a signature over another body", (raw: string) => signTagihPayload(secret, raw.replace("150000000", "1")), 403],
    ["a timestamp six minutes old", (raw: string) => signTagihPayload(secret, raw, now() - 360), 403],
    ["a timestamp six minutes ahead", (raw: string) => signTagihPayload(secret, raw, now() + 360), 403],
  ])("refuses %s and stores nothing", async (_what, signature, status) => {
    const account = accountFixture();
    await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [account] });
    const body = payment(account.externalId);
    const answer = await notifyPayment(body, signature);
    expect(answer.status).toBe(status);
    expect(answer.contentType).toContain("application/problem+json");
    expect(await storedFor(body.reference)).toEqual({ callbacks: 0, payments: 0 });
    expect((await stack.db.account.findUniqueOrThrow({ where: { externalId: account.externalId } })).balanceMinor).toBe(150_000_000n);
  });

  // Each reason in words a gateway's developer can act on, not the validator's ("Too small: expected number to be >0").
  const OFFSET = "must be an ISO 8601 date-time with an offset, such as 2026-12-20T10:15:00+07:00";
  it.each([
    ["amountMinor", { amountMinor: "1500.50" }, "must be a positive integer in minor units (a number or a digit string)"],
    ["amountMinor", { amountMinor: -5 }, "must be greater than 0"],
    ["amountMinor", { amountMinor: 0 }, "must be greater than 0"],
    ["amountMinor", { amountMinor: "99999999999999999999" }, "must be at most 999999999999999999"],
    ["amountMinor", { amountMinor: 2 ** 60 }, "is larger than a JSON number holds exactly: send it as a digit string"],
    ["amountMinor", { amountMinor: undefined }, "is required"],
    ["currency", { currency: "RUPIAH" }, "must be an ISO 4217 currency code such as IDR"],
    ["currency", { currency: 360 }, "must be a string"],
    ["reference", { reference: "" }, "must be at least 1 character"],
    ["reference", { reference: undefined }, "is required"],
    ["paidAt", { paidAt: "yesterday" }, OFFSET],
    ["paidAt", { paidAt: "2026-01-20T10:15:00" }, OFFSET],
    ["paidAt", { paidAt: new Date(Date.now() + 7 * 86_400_000).toISOString() }, "must not be in the future"], // a week ahead: a wrong date (up to a day ahead is allowed)
    ["accountExternalId", { accountExternalId: undefined }, "accountExternalId or accountId is required"],
    ["accountId", { accountId: "not-a-uuid" }, "must be a UUID"],
  ])("refuses a malformed %s (%o) with 400 naming it and why, and stores nothing", async (field, overrides, reason) => {
    const body = payment(`T-${randomUUID()}`, overrides);
    const answer = await notifyPayment(body);
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ field, reason }]);
    expect(await stack.db.callback.count({ where: { vendor: "payments", eventId: String(body.reference) } })).toBe(0);
  });

  it("refuses a payment whose accountId and accountExternalId name two different accounts (422), applying it to neither", async () => {
    const [first, second] = [accountFixture(), accountFixture()];
    await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [first, second] });
    const secondId = (await stack.db.account.findUniqueOrThrow({ where: { externalId: second.externalId } })).id;
    const body = payment(first.externalId, { accountId: secondId });
    const answer = await notifyPayment(body);
    expect(answer.status).toBe(422);
    expect(answer.body.errors).toEqual([{ field: "accountId", reason: `is not the account with accountExternalId ${first.externalId}` }]);
    expect((await storedFor(body.reference)).payments).toBe(0);
    const balances = await stack.db.account.findMany({ where: { externalId: { in: [first.externalId, second.externalId] } }, select: { balanceMinor: true } });
    expect(balances.map((b) => b.balanceMinor)).toEqual([150_000_000n, 150_000_000n]);
  });

  it("refuses a body that is not JSON with 400", async () => {
    const answer = await notifyPayment("reference=PAY-1&amountMinor=1");
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ field: "(body)", reason: "must be a JSON object" }]);
  });

  it("keeps a payment for an unknown account (202), lists it, and applies it once when the account is created; a redelivery changes nothing", async () => {
    const account = accountFixture();
    const body = payment(account.externalId, { amountMinor: 50_000_000 });
    const early = await notifyPayment(body);
    expect(early.status).toBe(202);
    expect(early.body).toMatchObject({ reference: body.reference, status: "unmatched" });
    expect(await storedFor(body.reference)).toEqual({ callbacks: 1, payments: 0 });
    expect(await unmatchedReferences()).toContain(body.reference);
    const listed = (await api(stack.apiUrl, "GET", "/v1/payments/unmatched?limit=500")).body.items.find(
      (p: { reference: string }) => p.reference === body.reference,
    );
    expect(listed).toEqual({
      reference: body.reference,
      accountExternalId: account.externalId,
      accountId: null,
      amountMinor: "50000000",
      currency: "IDR",
      paidAt: body.paidAt,
      receivedAt: expect.any(String),
    });

    // The account arrives: the payment is applied, without the gateway sending it again.
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [account] })).status).toBe(200);
    expect(await storedFor(body.reference)).toEqual({ callbacks: 1, payments: 1 });
    const created = await stack.db.account.findUniqueOrThrow({ where: { externalId: account.externalId } });
    expect(created.balanceMinor).toBe(100_000_000n);
    expect(await stack.db.payment.findUniqueOrThrow({ where: { reference: body.reference } })).toMatchObject({
      accountId: created.id,
      amountMinor: 50_000_000n,
      paidAt: new Date(body.paidAt),
    });
    expect(await unmatchedReferences()).not.toContain(body.reference);

    // Neither the same accounts again nor a redelivery applies it twice.
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [{ ...account, balanceMinor: 100_000_000 }] })).status).toBe(200);
    const later = await notifyPayment(body);
    expect(later.status).toBe(200);
    expect(later.body).toMatchObject({ status: "duplicate", signalled: 0 });
    expect(await storedFor(body.reference)).toEqual({ callbacks: 1, payments: 1 });
    expect((await stack.db.account.findUniqueOrThrow({ where: { id: created.id } })).balanceMinor).toBe(100_000_000n);
  });

  it("dates a payment notified without paidAt, applied when its account arrives later, at its receipt", async () => {
    const account = accountFixture();
    const { paidAt: _, ...body } = payment(account.externalId, { amountMinor: 1_000 });
    expect((await notifyPayment(body)).status).toBe(202);
    const received = (await stack.db.callback.findFirstOrThrow({ where: { vendor: "payments", eventId: body.reference } })).receivedAt;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [account] })).status).toBe(200);
    expect((await stack.db.payment.findUniqueOrThrow({ where: { reference: body.reference } })).paidAt).toEqual(received);
  });

  it("applies payments waiting for accounts when a portfolio import creates them, once each", async () => {
    const [a, b] = [accountFixture(), accountFixture()];
    const payments = [
      payment(a.externalId, { amountMinor: 1_000 }),
      payment(a.externalId, { amountMinor: "2000" }),
      payment(b.externalId, { amountMinor: 4_000 }),
    ];
    for (const p of payments) expect((await notifyPayment(p)).status).toBe(202);

    const csv = ["externalId,name,phone,jurisdiction,timeZone,product,currency,balanceMinor,daysPastDue", ...[a, b].map(row)].join("\n");
    const imported = await api(stack.apiUrl, "POST", "/v1/accounts/import", csv, { headers: { "content-type": "text/csv" } });
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    expect(imported.body).toMatchObject({ status: "completed", imported: 2 });
    const balances = await stack.db.account.findMany({ where: { externalId: { in: [a.externalId, b.externalId] } }, orderBy: { externalId: "asc" } });
    expect(Object.fromEntries(balances.map((x) => [x.externalId, x.balanceMinor]))).toEqual({
      [a.externalId]: 150_000_000n - 3_000n,
      [b.externalId]: 150_000_000n - 4_000n,
    });
    for (const p of payments) expect(await storedFor(p.reference)).toEqual({ callbacks: 1, payments: 1 });

    // The same file again sets the balances it states; the payments stay recorded once.
    expect((await api(stack.apiUrl, "POST", "/v1/accounts/import", csv, { headers: { "content-type": "text/csv" } })).status).toBe(200);
    for (const p of payments) expect(await storedFor(p.reference)).toEqual({ callbacks: 1, payments: 1 });
    expect(await unmatchedReferences()).not.toEqual(expect.arrayContaining([payments[0]!.reference]));
  });

  it("pages through unmatched payments with a cursor, newest first, and refuses a forged cursor", async () => {
    const waiting = [payment(`T-${randomUUID()}`), payment(`T-${randomUUID()}`), payment(`T-${randomUUID()}`)];
    for (const p of waiting) expect((await notifyPayment(p)).status).toBe(202);
    const seen = await unmatchedReferences(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((r) => waiting.some((p) => p.reference === r))).toEqual(waiting.map((p) => p.reference).reverse());

    const forged = Buffer.from(JSON.stringify({ k: ["yesterday", "P-1"] })).toString("base64url");
    const refused = await api(stack.apiUrl, "GET", `/v1/payments/unmatched?cursor=${forged}`);
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ field: "query.cursor", reason: "not a cursor this listing issued" }]);
  });

  it("refuses a currency that is not the account's (422) and a reference reused with another amount (409)", async () => {
    const account = accountFixture();
    await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [account] });
    const inr = payment(account.externalId, { currency: "INR" });
    const wrong = await notifyPayment(inr);
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors).toEqual([{ field: "currency", reason: "must be the account's currency IDR" }]);
    expect(await storedFor(inr.reference)).toEqual({ callbacks: 1, payments: 0 });

    const body = payment(account.externalId, { amountMinor: 1_000 });
    expect((await notifyPayment(body)).status).toBe(200);
    const reused = await notifyPayment({ ...body, amountMinor: 2_000 });
    expect(reused.status).toBe(409);
    expect((await stack.db.payment.findUniqueOrThrow({ where: { reference: body.reference } })).amountMinor).toBe(1_000n);
  });

  it("refuses a reference notified before with other details (409), applying nothing, and the first notification stays the one applied", async () => {
    const existing = accountFixture();
    await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [existing] });
    const waiting = accountFixture();
    const first = payment(waiting.externalId, { amountMinor: 777 });
    expect((await notifyPayment(first)).status).toBe(202);

    // The same reference for an account that exists, with another amount: not the payment stored.
    const other = await notifyPayment({ ...first, accountExternalId: existing.externalId, amountMinor: 5_000 });
    expect(other.status, JSON.stringify(other.body)).toBe(409);
    expect(other.body.detail).toBe(`payment ${first.reference} was notified before with another account, amount or currency`);
    expect((await stack.db.account.findUniqueOrThrow({ where: { externalId: existing.externalId } })).balanceMinor).toBe(150_000_000n);
    expect(await storedFor(first.reference)).toEqual({ callbacks: 1, payments: 0 });
    expect(await stack.db.callback.findUniqueOrThrow({ where: { vendor_eventId: { vendor: "payments", eventId: first.reference } } })).toMatchObject({
      payload: first,
      appliedAt: null,
    });
    // Any other detail alone is refused too; a repeat of the first is still waiting.
    for (const changed of [{ amountMinor: 778 }, { currency: "INR" }, { accountExternalId: `${waiting.externalId}-2` }, { accountId: randomUUID() }]) {
      expect((await notifyPayment({ ...first, ...changed })).status, JSON.stringify(changed)).toBe(409);
    }
    expect((await notifyPayment(first)).status).toBe(202);
    expect(await unmatchedReferences()).toContain(first.reference);

    // Its account arrives: the first notification is applied, as stored.
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [waiting] })).status).toBe(200);
    const created = await stack.db.account.findUniqueOrThrow({ where: { externalId: waiting.externalId } });
    expect(created.balanceMinor).toBe(150_000_000n - 777n);
    expect(await stack.db.payment.findUniqueOrThrow({ where: { reference: first.reference } })).toMatchObject({ accountId: created.id, amountMinor: 777n });

    // Once applied, another account is a conflict too, not a repeat.
    const elsewhere = await notifyPayment({ ...first, accountExternalId: `T-${randomUUID()}` });
    expect(elsewhere.status).toBe(409);
    expect((await notifyPayment(first)).body).toMatchObject({ status: "duplicate", accountId: created.id });
    expect(await storedFor(first.reference)).toEqual({ callbacks: 1, payments: 1 });
  });

  it("applies a currency sent in lower case, as gateways do, on delivery and when its account arrives later", async () => {
    const [now, later] = [accountFixture(), accountFixture()];
    await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [now] });
    const direct = payment(now.externalId, { amountMinor: 1_000, currency: "idr" });
    expect((await notifyPayment(direct)).body).toMatchObject({ status: "recorded" });
    expect((await notifyPayment(direct)).body).toMatchObject({ status: "duplicate" });

    const waiting = payment(later.externalId, { amountMinor: 2_000, currency: " idr" });
    expect((await notifyPayment(waiting)).status).toBe(202);
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [later] })).status).toBe(200);
    expect(await stack.db.payment.findUniqueOrThrow({ where: { reference: waiting.reference } })).toMatchObject({ amountMinor: 2_000n, currency: "IDR" });
    expect(await unmatchedReferences()).not.toContain(waiting.reference);
  });

  it("reads a reference and an external id with spaces around them as written without (a padded copy is the same payment), and refuses a future date on the ops route too", async () => {
    const debtor = accountFixture();
    await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [debtor] });
    const first = payment(debtor.externalId, { amountMinor: 1_000 });
    expect((await notifyPayment(first)).body).toMatchObject({ status: "recorded" });
    const padded = { ...first, reference: ` ${first.reference} `, accountExternalId: ` ${debtor.externalId}\t` };
    expect((await notifyPayment(padded)).body).toMatchObject({ status: "duplicate" });
    const ops = await api(
      stack.apiUrl,
      "POST",
      `/v1/accounts/${(await stack.db.account.findUniqueOrThrow({ where: { externalId: debtor.externalId } })).id}/payments`,
      {
        reference: `${first.reference}  `,
        amountMinor: "1000",
        currency: "IDR",
      },
    );
    expect(ops.status).toBe(200);
    expect(await stack.db.payment.count({ where: { reference: { contains: first.reference } } })).toBe(1);
    // The ops route refuses a payment dated on a day yet to come, as the gateway does.
    const accountId = (await stack.db.account.findUniqueOrThrow({ where: { externalId: debtor.externalId } })).id;
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const refused = await api(stack.apiUrl, "POST", `/v1/accounts/${accountId}/payments`, {
      reference: `OPS-${randomUUID()}`,
      amountMinor: "1",
      currency: "IDR",
      paidAt: future,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ field: "paidAt", reason: "must not be in the future" }]);
    expect((await stack.db.account.findUniqueOrThrow({ where: { externalId: debtor.externalId } })).balanceMinor).toBe(BigInt(debtor.balanceMinor) - 1_000n);
  });

  it("shares references with the ops route: a payment reported by both counts once", async () => {
    const { enrolments } = await runningJourneys([accountFixture()]);
    const [e] = enrolments;
    const body = payment(e!.account.externalId, { amountMinor: 10_000_000 });
    expect((await notifyPayment(body)).body.status).toBe("recorded");
    const ops = await api(stack.apiUrl, "POST", `/v1/accounts/${e!.accountId}/payments`, {
      reference: body.reference,
      amountMinor: 10_000_000,
      currency: "IDR",
    });
    expect(ops.status).toBe(200);
    expect((await stack.db.account.findUniqueOrThrow({ where: { id: e!.accountId } })).balanceMinor).toBe(140_000_000n);
    const state = await journeyState(e!.workflowId, (s) => s.paidMinor !== "0");
    expect(state.paidMinor).toBe("10000000");

    const opsOnly = await api(stack.apiUrl, "POST", `/v1/accounts/${e!.accountId}/payments`, {
      reference: `OPS-${randomUUID()}`,
      amountMinor: "5",
      currency: "IDR",
    });
    expect(opsOnly.body).toEqual({ accountId: e!.accountId, signalled: 1 });
    const conflict = await api(stack.apiUrl, "POST", `/v1/accounts/${e!.accountId}/payments`, { reference: body.reference, amountMinor: 1, currency: "IDR" });
    expect(conflict.status).toBe(409);
  });

  // Before, a keyed 99999999 against a balance of 10150 was recorded: the balance went far
  // below zero for good and every report the account was in showed a recovery of 77,890 %.
  it("refuses an ops payment above the balance as a likely typo (422 naming amountMinor) unless marked an overpayment; a repeat is still a duplicate", async () => {
    const account = accountFixture({ balanceMinor: 10_150 });
    const stored = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [account] });
    const id = stored.body.accounts[0].id as string;
    const balance = async () => (await stack.db.account.findUniqueOrThrow({ where: { id } })).balanceMinor;
    const typo = { reference: `OPS-${randomUUID()}`, amountMinor: "99999999", currency: "IDR" };
    const refused = await api(stack.apiUrl, "POST", `/v1/accounts/${id}/payments`, typo);
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([{ field: "amountMinor", reason: expect.stringContaining("is more than the balance 10150") }]);
    expect(await balance()).toBe(10_150n);
    expect(await stack.db.payment.count({ where: { reference: typo.reference } })).toBe(0);

    // Paid in full, then the same payment sent again: a duplicate, although the balance is now 0.
    const full = { reference: `OPS-${randomUUID()}`, amountMinor: "10150", currency: "IDR" };
    expect((await api(stack.apiUrl, "POST", `/v1/accounts/${id}/payments`, full)).status).toBe(200);
    expect((await api(stack.apiUrl, "POST", `/v1/accounts/${id}/payments`, full)).status).toBe(200);
    expect(await balance()).toBe(0n);
    // A debtor who really paid more: recorded, the balance shows the credit.
    const over = await api(stack.apiUrl, "POST", `/v1/accounts/${id}/payments`, {
      reference: `OPS-${randomUUID()}`,
      amountMinor: "500",
      currency: "IDR",
      overpayment: true,
    });
    expect(over.status).toBe(200);
    expect(await balance()).toBe(-500n);
  });

  it("documents the route in the OpenAPI document", async () => {
    const doc = await api(stack.apiUrl, "GET", "/openapi.json");
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        "/v1/webhooks/payments",
        "/v1/webhooks/agencies/{agencyId}",
        "/v1/agencies",
        "/v1/payments/unmatched/{reference}/assign",
        "/v1/payments/unmatched/{reference}/dismiss",
      ]),
    );
  });
});

describe("a payment for an account another change holds", () => {
  it("is refused at once with 503 and Retry-After, recording nothing, and goes through once the account is free", async () => {
    const [stored] = (await runningJourneys([accountFixture()])).enrolments;
    const accountId = stored!.accountId;
    const body = { reference: `OPS-${randomUUID()}`, amountMinor: "1000", currency: "IDR" };
    const pay = () => api(stack.apiUrl, "POST", `/v1/accounts/${accountId}/payments`, body);
    // As a long transaction holding the account does.
    await stack.db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT 1 FROM accounts WHERE id = ${accountId}::uuid FOR UPDATE`;
        const busy = await fetch(`${stack.apiUrl}/v1/accounts/${accountId}/payments`, {
          method: "POST",
          headers: { authorization: `Bearer ${stack.adminKey}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        expect(busy.status).toBe(503);
        expect(busy.headers.get("retry-after")).toBe("5");
        expect(await busy.json()).toMatchObject({ detail: expect.stringContaining("retry") });
      },
      { timeout: 20_000 },
    );
    expect(await stack.db.payment.count({ where: { reference: body.reference } })).toBe(0);
    expect((await pay()).status).toBe(200);
    expect(await stack.db.payment.count({ where: { reference: body.reference } })).toBe(1);
  });
});

describe("unmatched payments settled by ops", () => {
  /** A gateway payment naming an account we never issued, kept and listed. */
  async function unmatched(overrides: Record<string, unknown> = {}) {
    const body = payment(`T-mistyped-${randomUUID()}`, overrides);
    expect((await notifyPayment(body)).status).toBe(202);
    return body;
  }
  const assign = (reference: string, body: unknown) => api(stack.apiUrl, "POST", `/v1/payments/unmatched/${encodeURIComponent(reference)}/assign`, body);
  const dismiss = (reference: string, body: unknown) => api(stack.apiUrl, "POST", `/v1/payments/unmatched/${encodeURIComponent(reference)}/dismiss`, body);
  const audited = (action: string, reference: string) => stack.db.auditEntry.findMany({ where: { action, targetType: "payment", targetId: reference } });

  it("assigns a payment to the account ops name: applied and told once as a gateway payment, a repeat answers the same, it leaves the listing", async () => {
    const { enrolments } = await runningJourneys([accountFixture()]);
    const [e] = enrolments;
    const body = await unmatched({ amountMinor: 40_000_000 });
    expect(await unmatchedReferences()).toContain(body.reference);

    const first = await assign(body.reference, { accountExternalId: e!.account.externalId });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toEqual({ reference: body.reference, status: "assigned", accountId: e!.accountId, reason: null, resolvedAt: expect.any(String) });
    expect((await stack.db.account.findUniqueOrThrow({ where: { id: e!.accountId } })).balanceMinor).toBe(110_000_000n);
    expect(await stack.db.payment.findUniqueOrThrow({ where: { reference: body.reference } })).toMatchObject({
      accountId: e!.accountId,
      amountMinor: 40_000_000n,
      paidAt: new Date(body.paidAt),
    });
    const state = await journeyState(e!.workflowId, (s) => s.paidMinor !== "0");
    expect(state).toMatchObject({ balanceMinor: "110000000", paidMinor: "40000000" });

    // Repeats, at once and by the account's id: the same answer, nothing applied again.
    const repeats = await Promise.all([
      assign(body.reference, { accountId: e!.accountId }),
      assign(body.reference, { accountExternalId: e!.account.externalId }),
    ]);
    for (const repeat of repeats) expect([repeat.status, repeat.body]).toEqual([200, first.body]);
    expect(await storedFor(body.reference)).toEqual({ callbacks: 1, payments: 1 });
    expect((await stack.db.account.findUniqueOrThrow({ where: { id: e!.accountId } })).balanceMinor).toBe(110_000_000n);
    expect((await journeyState(e!.workflowId, () => true)).paidMinor).toBe("40000000");
    expect(await unmatchedReferences()).not.toContain(body.reference);
    const entries = await audited("payment.assign", body.reference);
    expect(entries).toEqual([
      expect.objectContaining({ detail: { accountId: e!.accountId, amountMinor: "40000000", currency: "IDR" }, actor: expect.any(String) }),
    ]);

    // Another account, a dismissal, or the gateway's redelivery change nothing.
    const other = accountFixture();
    await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [other] });
    const elsewhere = await assign(body.reference, { accountExternalId: other.externalId });
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body.detail).toBe(`payment ${body.reference} was assigned to account ${e!.accountId}`);
    expect((await dismiss(body.reference, { reason: "not ours" })).status).toBe(409);
    expect((await notifyPayment(body)).body).toEqual({ reference: body.reference, accountId: e!.accountId, status: "duplicate", signalled: 0 });
    expect(await storedFor(body.reference)).toEqual({ callbacks: 1, payments: 1 });
  });

  it("refuses to assign a payment the gateway already applied (409)", async () => {
    const account = accountFixture();
    await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [account] });
    const body = payment(account.externalId, { amountMinor: 1_000 });
    expect((await notifyPayment(body)).status).toBe(200);
    const answer = await assign(body.reference, { accountExternalId: account.externalId });
    expect(answer.status).toBe(409);
    expect(answer.contentType).toContain("application/problem+json");
    expect(await audited("payment.assign", body.reference)).toEqual([]);
  });

  it("dismisses a payment with its reason: off the listing and out of reconciliation, the notification kept", async () => {
    const body = await unmatched();
    const first = await dismiss(body.reference, { reason: "refunded" });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toEqual({ reference: body.reference, status: "dismissed", accountId: null, reason: "refunded", resolvedAt: expect.any(String) });
    expect(await unmatchedReferences()).not.toContain(body.reference);
    expect(await stack.db.callback.findUniqueOrThrow({ where: { vendor_eventId: { vendor: "payments", eventId: body.reference } } })).toMatchObject({
      payload: body,
      appliedAt: null,
    });
    expect(await stack.db.paymentResolution.findUniqueOrThrow({ where: { reference: body.reference } })).toMatchObject({
      status: "dismissed",
      reason: "refunded",
    });
    expect(await audited("payment.dismiss", body.reference)).toEqual([expect.objectContaining({ detail: { reason: "refunded" } })]);

    // A repeat keeps the first reason; an assignment is refused; the account appearing applies nothing.
    expect(await dismiss(body.reference, { reason: "not ours" })).toMatchObject({ status: 200, body: first.body });
    expect(await audited("payment.dismiss", body.reference)).toHaveLength(1);
    const account = accountFixture({ externalId: body.accountExternalId });
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [account] })).status).toBe(200);
    expect((await assign(body.reference, { accountExternalId: account.externalId })).body.detail).toBe(`payment ${body.reference} was dismissed`);
    expect(await storedFor(body.reference)).toEqual({ callbacks: 1, payments: 0 });
    expect((await stack.db.account.findUniqueOrThrow({ where: { externalId: account.externalId } })).balanceMinor).toBe(150_000_000n);
  });

  it("answers an unknown reference 404, an unknown account or another currency 422 and malformed input 400, each naming the field", async () => {
    const body = await unmatched();
    const cases: [string, (r: string) => ReturnType<typeof api>, number, { field: string; reason: string }[] | undefined][] = [
      ["unknown reference (assign)", () => assign(`PAY-${randomUUID()}`, { accountExternalId: "CC-1" }), 404, undefined],
      ["unknown reference (dismiss)", () => dismiss(`PAY-${randomUUID()}`, { reason: "refunded" }), 404, undefined],
      ["unknown external id", (r) => assign(r, { accountExternalId: `T-${randomUUID()}` }), 422, [{ field: "accountExternalId", reason: "no such account" }]],
      ["unknown id", (r) => assign(r, { accountId: randomUUID() }), 422, [{ field: "accountId", reason: "no such account" }]],
      ["no account named", (r) => assign(r, {}), 400, [{ field: "accountExternalId", reason: "accountExternalId or accountId is required" }]],
      ["an id that is not a UUID", (r) => assign(r, { accountId: "CC-1001" }), 400, [{ field: "accountId", reason: expect.any(String) }]],
      ["no reason", (r) => dismiss(r, {}), 400, [{ field: "reason", reason: expect.any(String) }]],
      ["a blank reason", (r) => dismiss(r, { reason: "  " }), 400, [{ field: "reason", reason: expect.any(String) }]],
      // Valid JSON that PostgreSQL cannot store: refused like a NUL character on every route.
      [
        "a lone surrogate in the reason",
        (r) => dismiss(r, { reason: "refunded \ud800" }),
        400,
        [{ field: "reason", reason: "must not contain unpaired surrogates" }],
      ],
    ];
    for (const [what, call, status, errors] of cases) {
      const answer = await call(body.reference);
      expect(answer.status, what).toBe(status);
      expect(answer.contentType, what).toContain("application/problem+json");
      if (errors) expect(answer.body.errors, what).toEqual(errors);
    }

    const inr = accountFixture({ currency: "INR" });
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [inr] })).status).toBe(200);
    const currency = await assign(body.reference, { accountExternalId: inr.externalId });
    expect(currency.status).toBe(422);
    expect(currency.body.errors).toEqual([{ field: "accountExternalId", reason: "the account is in INR" }]);

    expect(await unmatchedReferences()).toContain(body.reference);
    expect(await storedFor(body.reference)).toEqual({ callbacks: 1, payments: 0 });
  });
});

describe("promises nobody waits on", () => {
  const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);
  const day = (d: Date) => d.toISOString().slice(0, 10);

  it("are kept by a covering payment whoever reports it, broken by the hourly settlement once due plus grace passed, and counted due in the MIS", async () => {
    // Journeys that ended at once: no workflow waits on these accounts' promises.
    const product = `loan-${randomUUID()}`;
    const fixtures = [accountFixture({ product }), accountFixture({ product }), accountFixture({ product })];
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: fixtures })).status).toBe(200);
    const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "ended at once",
      strategy: { steps: [{ id: "stop", kind: "end", outcome: "skipped" }] },
      segment: { products: [product] },
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.body.id}/launch`)).status).toBe(202);
    const enrolments = await eventually(async () => {
      const rows = await stack.db.enrolment.findMany({ where: { campaignId: campaign.body.id, status: "finished" }, include: { account: true } });
      return rows.length === fixtures.length ? rows : undefined;
    }, "the journeys to end");
    const [unpaid, paidLate, partly] = fixtures.map((f) => enrolments.find((e) => e.account.externalId === f.externalId)!);

    // Promised ten days ago for five days ago (the API refuses past dates, so stored as they were),
    // and one promise still to come.
    const promise = (e: typeof unpaid, dueDate: Date, createdAt: Date) =>
      stack.db.paymentPromise.create({
        data: {
          accountId: e!.accountId,
          enrolmentId: e!.id,
          amountMinor: 40_000_000n,
          currency: "IDR",
          dueDate: new Date(day(dueDate)),
          source: "ops",
          createdAt,
        },
      });
    const broken = await promise(unpaid, daysAgo(5), daysAgo(10));
    const kept = await promise(paidLate, daysAgo(5), daysAgo(10));
    const open = await promise(partly, new Date(Date.now() + 3 * 86_400_000), new Date());
    const status = async (id: string) => (await stack.db.paymentPromise.findUniqueOrThrow({ where: { id } })).status;

    // The gateway reports today a payment made within the promise's time: kept on arrival.
    const late = await notifyPayment(payment(paidLate!.account.externalId, { amountMinor: "40000000", paidAt: daysAgo(6).toISOString() }));
    expect(late.body).toMatchObject({ status: "recorded", signalled: 0 });
    expect(await status(kept.id)).toBe("kept");
    // Half of what was promised keeps nothing.
    expect((await notifyPayment(payment(partly!.account.externalId, { amountMinor: "20000000" }))).status).toBe(200);
    expect(await status(open.id)).toBe("open");
    expect(await status(broken.id)).toBe("open");

    const schedule = stack.temporal.schedule.getHandle(promiseSettlementSchedule(stack.config.taskQueue));
    const before = (await schedule.describe()).info.recentActions.length;
    await schedule.trigger();
    const action = await eventually(async () => (await schedule.describe()).info.recentActions[before]?.action, "the triggered run");
    expect(await stack.temporal.workflow.getHandle(action.workflow.workflowId).result()).toBeGreaterThanOrEqual(1);
    expect(await status(broken.id)).toBe("broken");
    expect(await status(kept.id)).toBe("kept");
    expect(await status(open.id)).toBe("open");

    // Both fell due on their due date: one kept of two.
    const due = day(daysAgo(5));
    const report = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaign.body.id}/report?from=${due}&to=${due}`);
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    expect(report.body.totals).toEqual([expect.objectContaining({ currency: "IDR", promisesDue: 2, promisesKept: 1 })]);
  });
});

describe("debtors of the vendor sandbox", () => {
  it("reply and pay as its outcome mix says: the reply lands on the text it answers, the payment comes through the signed gateway webhook and ends the journey paid", async () => {
    const sandbox = stack.sandbox!;
    sandbox.setOutcomes({ sms: { delivered: 1, reply: 1, replyTexts: ["PAID"] }, payments: { after: 1, full: 1 } });
    try {
      const product = `loan-${randomUUID()}`;
      const accounts = [accountFixture({ product, balanceMinor: 250_000 }), accountFixture({ product, balanceMinor: 90_000 })];
      expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts })).status).toBe(200);
      const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", {
        name: "sandbox debtors",
        strategy: {
          steps: [
            { id: "sms", kind: "contact", channel: "sms", template: "reminder" },
            { id: "later", kind: "wait", duration: "P7D" },
          ],
        },
        segment: { products: [product] },
      });
      expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.body.id}/launch`)).status).toBe(202);
      const finished = await eventually(async () => {
        const rows = await stack.db.enrolment.findMany({ where: { campaignId: campaign.body.id, status: "finished" }, include: { account: true } });
        return rows.length === accounts.length ? rows : undefined;
      }, "both journeys finished");
      await sandbox.idle();

      for (const enrolment of finished) {
        const account = await stack.db.account.findUniqueOrThrow({ where: { id: enrolment.accountId } });
        const start = accounts.find((a) => a.externalId === account.externalId)!.balanceMinor;
        expect(enrolment.outcome).toBe("paid");
        expect(account.balanceMinor).toBe(0n);
        const payments = await stack.db.payment.findMany({ where: { accountId: account.id } });
        expect(payments).toMatchObject([{ reference: expect.stringMatching(/^SBX-/), amountMinor: BigInt(start), currency: account.currency }]);
        const [text] = await stack.db.contactAttempt.findMany({ where: { enrolmentId: enrolment.id } });
        expect(text).toMatchObject({ channel: "sms", status: "delivered", repliedAt: expect.any(Date) });
        expect(sandbox.messages().find((m) => m.sid === text!.vendorId)).toMatchObject({ reply: "PAID" });
        // Each went to our webhooks signed as the vendor signs it, and was taken.
        const sent = sandbox.callbacks().filter((cb) => cb.kind === "payment" && cb.body.includes(account.id));
        expect(sent.map((cb) => cb.statusCode)).toEqual([200]);
      }
      const replies = sandbox
        .callbacks()
        .filter((cb) => cb.kind === "inbound-message" && finished.some((e) => cb.body.includes(encodeURIComponent(e.account.phone!))));
      expect(replies.map((cb) => cb.statusCode)).toEqual([200, 200]);
    } finally {
      sandbox.setOutcomes({ sms: { delivered: 1 }, payments: { after: 0 } });
    }
  });
});
