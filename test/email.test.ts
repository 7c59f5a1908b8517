import { createPrivateKey, randomBytes, randomUUID, sign } from "node:crypto";
import type { MailService } from "@sendgrid/mail";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifySendgridError, createEmailSender } from "../activities/channels/email.ts";
import { NotSentError } from "../activities/vendor-errors.ts";
import { generateSendgridKeyPair } from "../sandbox/index.ts";
import { createSendgridClient } from "../vendors/sendgrid.ts";
import { accountFixture, api, eventually, seedAttempt, startTestStack } from "./stack.ts";

// Two stacks: the product with SendGrid in the vendor sandbox (real @sendgrid/mail sends, the
// sandbox's own signed event webhooks), and an API-only stack with SendGrid "credentials" whose
// private key the test holds, so it can sign, forge, repeat and reorder event batches itself.
let stack: Awaited<ReturnType<typeof startTestStack>>;
let signed: Awaited<ReturnType<typeof startTestStack>>;
const keys = generateSendgridKeyPair();
const privateKey = createPrivateKey(keys.privateKeyPem);

beforeAll(async () => {
  stack = await startTestStack({ TAGIH_SANDBOX_OUTCOMES: JSON.stringify({ sms: { delivered: 1 }, email: { delivered: 1 } }) });
  signed = await startTestStack({ TAGIH_ROLE: "api", SENDGRID_API_KEY: "SG.test-key", SENDGRID_WEBHOOK_PUBLIC_KEY: keys.publicKeyBase64 });
});
afterAll(async () => {
  await stack?.stop();
  await signed?.stop();
});

const emailStep = { id: "reminder-email", kind: "contact", channel: "email", template: "reminder" };
const uniqueEmail = (who: string) => `${who}-${randomUUID().slice(0, 8)}@example.com`;
const nbsp = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");

/** Stores accounts under a product of their own; returns the product and the accounts' ids by email. */
async function storeAccounts(accounts: Record<string, unknown>[]) {
  const product = `loan-${randomUUID()}`;
  const stored = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: accounts.map((a) => ({ ...a, product })) });
  expect(stored.status, JSON.stringify(stored.body)).toBe(200);
  const rows = await stack.db.account.findMany({ where: { product } });
  return { product, ids: Object.fromEntries(rows.map((r) => [r.email!, r.id])) as Record<string, string> };
}

/** A one-step email campaign over a product's accounts, launched; resolves when every account finished. */
async function runEmailCampaign(product: string, count: number) {
  const created = await api(stack.apiUrl, "POST", "/v1/campaigns", {
    name: "Email reminders",
    strategy: { steps: [emailStep] },
    segment: { products: [product] },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const campaignId = created.body.id as string;
  expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/launch`)).status).toBe(202);
  const summary = await eventually(async () => {
    const s = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/summary`);
    return s.body.finished === count ? s.body : undefined;
  }, `${count} finished enrolments`);
  return { campaignId, summary };
}

const emailsTo = (address: string) => stack.sandbox!.emails().filter((e) => e.recipients.some((r) => r.email === address));
const part = (email: { content: unknown[] }, type: string) => (email.content as { type: string; value: string }[]).find((c) => c.type === type)?.value ?? "";

describe("an email campaign end to end", () => {
  it("sends one rendered email per account through @sendgrid/mail and counts SendGrid's delivered events", async () => {
    const budi = uniqueEmail("budi");
    const asha = uniqueEmail("asha");
    const { product, ids } = await storeAccounts([
      accountFixture({ name: "Budi <b>Santoso</b> & Co", email: budi }),
      accountFixture({ name: "Asha Rao", email: asha, locale: "en-IN", currency: "INR", balanceMinor: 2_500_000 }),
    ]);
    const { campaignId, summary } = await runEmailCampaign(product, 2);
    expect(summary).toMatchObject({ enrolled: 2, attempted: 2, delivered: 2, failed: 0, outcomes: { contacted: 2 } });

    const attempts = await stack.db.contactAttempt.findMany({ where: { enrolment: { campaignId } } });
    expect(attempts.map((a) => [a.channel, a.vendor, a.status])).toEqual([
      ["email", "sendgrid", "delivered"],
      ["email", "sendgrid", "delivered"],
    ]);
    for (const [address, accountId] of Object.entries(ids)) {
      const sent = emailsTo(address);
      expect(sent).toHaveLength(1);
      const email = sent[0]!;
      const attempt = attempts.find((a) => a.accountId === accountId)!;
      expect(attempt.vendorId).toBe(email.messageId);
      expect(email.customArgs).toEqual({ attemptId: attempt.id, accountId, campaignId });
      expect(email.content.map((c) => (c as { type: string }).type)).toEqual(["text/plain", "text/html"]);
      expect(email.headers["List-Unsubscribe"]).toMatch(
        new RegExp(`^<${stack.config.publicBaseUrl}/v1/unsubscribe/${accountId}\\.email\\.[A-Za-z0-9_-]{43}>$`),
      );
      expect(email.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
      const link = email.headers["List-Unsubscribe"]!.slice(1, -1);
      expect(part(email, "text/plain")).toContain(link);
      expect(part(email, "text/html")).toContain(`href="${link}"`);
      expect(email.recipients[0]!.events).toEqual(["processed", "delivered"]);
    }

    const [indonesian] = emailsTo(budi);
    expect(nbsp(indonesian!.subject!)).toBe("Tagih Demo Lender: tagihan Rp 1.500.000 jatuh tempo 25 Desember 2026");
    expect(nbsp(part(indonesian!, "text/plain"))).toContain(
      "Halo Budi,\n\nIni Tagih Demo Lender. Ini adalah upaya penagihan utang: tagihan Anda sebesar Rp 1.500.000",
    );
    // The HTML part escapes account data; the plain-text part keeps it as it is.
    expect(nbsp(part(indonesian!, "text/html"))).toContain("<strong>Rp 1.500.000</strong> jatuh tempo pada <strong>25 Desember 2026</strong>");
    expect(indonesian!.personalizations).toEqual([{ to: [{ email: budi, name: "Budi <b>Santoso</b> & Co" }] }]);
    expect(indonesian!.from).toEqual({ email: "collections@example.com", name: "Tagih Demo Lender" });

    const [english] = emailsTo(asha);
    expect(english!.subject).toContain("₹25,000.00 due on 25 December 2026");
    expect(part(english!, "text/plain")).toContain("This is an attempt to collect a debt: ₹25,000.00 is due on 25 December 2026.");
  });

  it("escapes account data in the HTML part", async () => {
    const address = uniqueEmail("html");
    const { product } = await storeAccounts([
      accountFixture({ name: "<img src=x onerror=alert(1)>&Co Rao", email: address, locale: "en-IN", currency: "INR" }),
    ]);
    await runEmailCampaign(product, 1);
    const [email] = emailsTo(address);
    expect(part(email!, "text/html")).toContain("<p>Hi &lt;img,</p>");
    expect(part(email!, "text/html")).not.toContain("<img");
    expect(part(email!, "text/plain")).toContain("Hi <img,");
  });

  it("counts a bounce as failed with the bounce status as the error code", async () => {
    stack.sandbox!.setOutcomes({ email: { bounce: 1 } });
    try {
      const { product } = await storeAccounts([accountFixture({ email: uniqueEmail("bounce") })]);
      const { campaignId, summary } = await runEmailCampaign(product, 1);
      expect(summary).toMatchObject({ attempted: 1, delivered: 0, failed: 1, outcomes: { "not-contacted": 1 } });
      const [attempt] = await stack.db.contactAttempt.findMany({ where: { enrolment: { campaignId } } });
      expect(attempt).toMatchObject({ status: "failed", errorCode: "5.1.1" });
    } finally {
      stack.sandbox!.setOutcomes({ email: { delivered: 1 } });
    }
  });

  it("fails an account without an email address permanently (no-email) and sends nothing", async () => {
    const { product } = await storeAccounts([accountFixture({ email: undefined })]);
    const before = stack.sandbox!.emails().length;
    const { campaignId, summary } = await runEmailCampaign(product, 1);
    // Refused before the vendor call, after the gate: never attempted (nor undelivered, nor billed), as the campaign report counts it.
    expect(summary).toMatchObject({ attempted: 0, delivered: 0, failed: 0, outcomes: { "not-contacted": 1 } });
    const report = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/report`);
    expect(report.body.totals).toEqual([expect.objectContaining({ enrolled: 1, touched: 0, attempted: 0, undelivered: 0, units: 0, deliveryRate: null })]);
    const [attempt] = await stack.db.contactAttempt.findMany({ where: { enrolment: { campaignId } } });
    expect(attempt).toMatchObject({ status: "failed", errorCode: "no-email", vendorId: null });
    expect(stack.sandbox!.emails().length).toBe(before);
  });

  it("records the opens and clicks SendGrid reports", async () => {
    stack.sandbox!.setOutcomes({ email: { delivered: 1, open: 1, click: 1 } });
    try {
      const { product } = await storeAccounts([accountFixture({ email: uniqueEmail("opener") })]);
      const { campaignId } = await runEmailCampaign(product, 1);
      await stack.sandbox!.idle();
      const [attempt] = await stack.db.contactAttempt.findMany({ where: { enrolment: { campaignId } } });
      expect(attempt!.openedAt).toBeInstanceOf(Date);
      expect(attempt!.clickedAt).toBeInstanceOf(Date);
    } finally {
      stack.sandbox!.setOutcomes({ email: { delivered: 1 } });
    }
  });

  it("opts the debtor out of email on SendGrid's unsubscribe event, and the gate then blocks email in every campaign", async () => {
    stack.sandbox!.setOutcomes({ email: { delivered: 1, unsubscribe: 1 } });
    const address = uniqueEmail("leaver");
    const { product, ids } = await storeAccounts([accountFixture({ email: address })]);
    const accountId = ids[address]!;
    try {
      await runEmailCampaign(product, 1);
      await stack.sandbox!.idle();
    } finally {
      stack.sandbox!.setOutcomes({ email: { delivered: 1 } });
    }
    const optOut = await eventually(() => stack.db.optOut.findFirst({ where: { accountId, channel: "email" } }).then((o) => o ?? undefined), "the opt-out");
    expect(optOut.source).toBe("sendgrid-unsubscribe");

    const gate = await api(stack.apiUrl, "GET", `/v1/accounts/${accountId}/compliance?channel=email`);
    expect(gate.body).toMatchObject({ allowed: false, nextAllowedAt: null });
    expect(gate.body.reasons.map((r: { rule: string }) => r.rule)).toContain("opt-out");
    expect((await api(stack.apiUrl, "GET", `/v1/accounts/${accountId}/compliance?channel=sms`)).body.allowed).toBe(true);

    const { campaignId, summary } = await runEmailCampaign(product, 1);
    expect(summary).toMatchObject({ attempted: 0, outcomes: { "not-contacted": 1 } });
    const decisions = await stack.db.complianceDecision.findMany({ where: { accountId, enrolmentId: { not: null }, allowed: false } });
    expect(decisions.some((d) => JSON.stringify(d.reasons).includes("opt-out"))).toBe(true);
    expect(await stack.db.contactAttempt.count({ where: { enrolment: { campaignId } } })).toBe(0);
    expect(emailsTo(address)).toHaveLength(1);
  });
});

describe("the unsubscribe link", () => {
  it("asks on GET, opts out on POST (RFC 8058 one-click) and refuses a forged token", async () => {
    const address = uniqueEmail("clicker");
    const { product, ids } = await storeAccounts([accountFixture({ email: address })]);
    const accountId = ids[address]!;
    await runEmailCampaign(product, 1);
    const [email] = emailsTo(address);
    const link = email!.headers["List-Unsubscribe"]!.slice(1, -1);
    const path = new URL(link).pathname;
    const local = `${stack.apiUrl}${path}`;

    const page = await fetch(local, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).toContain('<html lang="id">');
    expect(html).toContain('<form method="post">');
    expect(await stack.db.optOut.count({ where: { accountId } })).toBe(0);

    const forged = local.replace(/.$/, (c) => (c === "A" ? "B" : "A"));
    const refused = await fetch(forged, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    const otherAccount = local.replace(accountId, randomUUID());
    expect((await fetch(otherAccount, { method: "POST", headers: { accept: "text/html" } })).status).toBe(403);
    expect((await fetch(`${stack.apiUrl}/v1/unsubscribe/not-a-token`)).status).toBe(403);
    expect(await stack.db.optOut.count({ where: { accountId } })).toBe(0);

    const oneClick = await fetch(local, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(oneClick.status).toBe(200);
    expect(await oneClick.text()).toContain("Anda telah berhenti berlangganan");
    expect(await stack.db.optOut.findFirst({ where: { accountId, channel: "email" } })).toMatchObject({ source: "unsubscribe-link" });
    expect((await fetch(local, { method: "POST" })).status).toBe(200);
    expect(await (await fetch(local)).text()).toContain("Anda telah berhenti berlangganan");

    const gate = await api(stack.apiUrl, "GET", `/v1/accounts/${accountId}/compliance?channel=email`);
    expect(gate.body.allowed).toBe(false);
  });
});

describe("the email sender on a retry", () => {
  /** A stored account and campaign, and a sender like the worker's pointed at the sandbox. */
  async function setUp(options: { mail?: MailService; from?: string } = {}) {
    const address = uniqueEmail("retry");
    const { ids } = await storeAccounts([accountFixture({ email: address })]);
    const account = await stack.db.account.findUniqueOrThrow({ where: { id: ids[address]! } });
    const campaign = await stack.db.campaign.create({ data: { name: "sender test", strategy: { version: 1, steps: [] } } });
    const sender = createEmailSender({
      db: stack.db,
      mail: options.mail ?? createSendgridClient({ apiKey: "SG.test", apiBaseUrl: stack.sandbox!.url }),
      from: options.from ?? "collections@example.com",
      creditorName: "Tagih Demo Lender",
      unsubscribeUrl: (id) => `${stack.config.publicBaseUrl}/v1/unsubscribe/${id}.email.test`,
      reconcileWindowMs: 60_000,
    });
    const request = { attemptId: randomUUID(), account, campaign, stepId: "email-1", template: "reminder", mayHaveSent: false, since: new Date() };
    return { address, sender, request };
  }

  it("finds the email an earlier try sent in SendGrid's events (they carry the attempt id) instead of sending again", async () => {
    const { address, sender, request } = await setUp();
    const first = await sender.send(request);
    await stack.sandbox!.idle();
    const again = await sender.send({ ...request, mayHaveSent: true });
    expect(again.vendorId).toBe(first.vendorId);
    expect(emailsTo(address)).toHaveLength(1);
  });

  it("waits for events after a try that got no answer, and sends once the window has passed without any", async () => {
    const { address, sender, request } = await setUp();
    const waiting = await sender.send({ ...request, mayHaveSent: true }).catch((error: unknown) => error);
    expect(sender.classify(waiting)).toMatchObject({ transient: true, code: "awaiting-events" });
    expect(emailsTo(address)).toHaveLength(0);
    const sent = await sender.send({ ...request, mayHaveSent: true, since: new Date(Date.now() - 61_000) });
    expect(emailsTo(address).map((e) => e.messageId)).toEqual([sent.vendorId]);
  });

  it("sends again at once when SendGrid refused the earlier try (429: nothing was sent)", async () => {
    let calls = 0;
    const mail = {
      setTimeout() {},
      async send() {
        calls += 1;
        if (calls === 1)
          throw Object.assign(new Error("Too Many Requests"), { code: 429, response: { headers: {}, body: { errors: [{ message: "rate limited" }] } } });
        return [{ statusCode: 202, headers: { "x-message-id": "second-try" }, body: "" }, ""];
      },
    } as unknown as MailService;
    const { sender, request } = await setUp({ mail });
    const refused = await sender.send(request).catch((error: unknown) => error);
    expect(sender.classify(refused)).toMatchObject({ transient: true, code: "429", message: "Too Many Requests: rate limited" });
    expect(await sender.send({ ...request, mayHaveSent: true })).toEqual({ vendorId: "second-try", status: "queued" });
  });

  it("classifies SendGrid's own 400 as permanent, naming the field", async () => {
    const { sender, request } = await setUp({ from: "not-an-address" });
    const error = await sender.send(request).catch((e: unknown) => e);
    const failure = sender.classify(error);
    expect(failure).toMatchObject({ transient: false, code: "400" });
    expect(failure.message).toContain("from.email");
  });

  it("classifies network errors, throttling and server errors as transient, other 4xx and refusals as permanent", () => {
    const classify = (error: unknown) => {
      const f = classifySendgridError(error);
      return [f.transient, f.code, f.reachedVendor];
    };
    expect(classify(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }))).toEqual([true, "ECONNREFUSED", true]);
    expect(classify(new Error("socket hang up"))).toEqual([true, "network", true]);
    expect(classify({ code: 429, message: "Too Many Requests" })).toEqual([true, "429", true]);
    expect(classify({ code: 503, message: "Service Unavailable" })).toEqual([true, "503", true]);
    expect(classify({ code: 401, message: "Unauthorized" })).toEqual([false, "401", true]);
    expect(classify({ code: 413, message: "Payload Too Large" })).toEqual([false, "413", true]);
    // Ours, before SendGrid was called: permanent, and nothing reached the vendor.
    expect(classify(new NotSentError("no-email", "no email"))).toEqual([false, "no-email", false]);
    const retryable = classifySendgridError({ code: 500, message: "Internal" }).asRetryable({ attemptId: "a1" });
    expect(retryable).toMatchObject({ type: "VendorTransientError", nonRetryable: false });
    expect(retryable.message).toBe("sendgrid 500: Internal (attemptId=a1)");
  });
});

// ---- The event webhook, driven by the test's own signed (and forged) batches ----

const eventsPath = "/v1/webhooks/sendgrid/events";

function signatureFor(body: string, timestamp: string, key = privateKey) {
  return sign("sha256", Buffer.from(timestamp + body, "utf8"), key).toString("base64");
}

/** Posts a batch signed as SendGrid signs it, unless told otherwise. */
async function postEvents(events: unknown, options: { body?: string; signature?: string | null; timestamp?: string | null } = {}) {
  const body = options.body ?? JSON.stringify(events);
  const timestamp = options.timestamp === undefined ? String(Math.floor(Date.now() / 1000)) : options.timestamp;
  const signature = options.signature === undefined ? signatureFor(body, timestamp ?? "") : options.signature;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature !== null) headers["x-twilio-email-event-webhook-signature"] = signature;
  if (timestamp !== null) headers["x-twilio-email-event-webhook-timestamp"] = timestamp;
  const response = await fetch(`${signed.apiUrl}${eventsPath}`, { method: "POST", headers, body });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, contentType: response.headers.get("content-type") };
}

const newMessageId = () => randomBytes(16).toString("base64url");
let clock = Math.floor(Date.now() / 1000);
function event(messageId: string, kind: string, extra: Record<string, unknown> = {}) {
  clock += 1;
  return {
    email: "debtor@example.com",
    timestamp: clock,
    event: kind,
    sg_event_id: randomBytes(16).toString("base64"),
    sg_message_id: `${messageId}.filterdrecv-7d8c6f5b4-abcde-1-6753A1B2-3.0`,
    "smtp-id": `<${messageId}@ismtpd-test>`,
    ...extra,
  };
}

/** An account enrolled in a campaign with one email attempt SendGrid accepted as `messageId`. */
const attemptWithMessageId = (messageId: string, vendorId: string | null = messageId) =>
  seedAttempt(signed.db, { vendorId, channel: "email", status: "queued" });
const attempt = (id: string) => signed.db.contactAttempt.findUniqueOrThrow({ where: { id } });
const storedEvents = (events: { sg_event_id: string }[]) =>
  signed.db.callback.count({ where: { vendor: "sendgrid", eventId: { in: events.map((e) => e.sg_event_id) } } });

describe("SendGrid event webhook signatures", () => {
  it("refuses a batch signed with another key with 403 and stores nothing", async () => {
    const id = newMessageId();
    const row = await attemptWithMessageId(id);
    const events = [event(id, "delivered")];
    const body = JSON.stringify(events);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const otherKey = createPrivateKey(generateSendgridKeyPair().privateKeyPem);
    const response = await postEvents(events, { timestamp, signature: signatureFor(body, timestamp, otherKey) });
    expect(response.status).toBe(403);
    expect(response.contentType).toContain("application/problem+json");
    expect(await storedEvents(events)).toBe(0);
    expect((await attempt(row.id)).status).toBe("queued");
  });

  it("refuses a missing signature or timestamp, a garbage signature, and a body or timestamp altered after signing", async () => {
    const id = newMessageId();
    await attemptWithMessageId(id);
    const events = [event(id, "delivered")];
    const body = JSON.stringify(events);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const good = signatureFor(body, timestamp);
    expect((await postEvents(events, { signature: null })).status).toBe(403);
    expect((await postEvents(events, { timestamp: null, signature: good })).status).toBe(403);
    expect((await postEvents(events, { timestamp, signature: "bm90IGEgc2lnbmF0dXJl" })).status).toBe(403);
    expect((await postEvents(events, { timestamp, signature: good, body: body.replace("delivered", "bounce") })).status).toBe(403);
    expect((await postEvents(events, { timestamp: String(Number(timestamp) + 1), signature: good })).status).toBe(403);
    // Same JSON, different bytes: the signature covers the exact raw body.
    expect((await postEvents(events, { timestamp, signature: good, body: JSON.stringify(events, null, 1) })).status).toBe(403);
    expect(await storedEvents(events)).toBe(0);
    expect((await postEvents(events, { timestamp, signature: good, body })).status).toBe(204);
  });

  it("applies the valid events of a batch, keeps and names the ones it cannot apply, and refuses with 400 a body it cannot read or with nothing to apply", async () => {
    const id = newMessageId();
    const row = await attemptWithMessageId(id);
    const notJson = await postEvents(undefined, { body: "[{" });
    expect(notJson.status).toBe(400);
    expect(notJson.body.errors).toEqual([{ field: "(body)", reason: "is not valid JSON" }]);
    expect((await postEvents({ event: "delivered" })).body.errors).toEqual([{ field: "(body)", reason: "must be a JSON array of events" }]);

    const good = event(id, "delivered");
    const unsubscribe = event(id, "unsubscribe");
    const { sg_event_id: _, ...withoutId } = event(id, "processed");
    const { sg_message_id: __, ...withoutMessage } = event(id, "bounce");
    const badTime = { ...event(id, "open"), timestamp: "yesterday" };
    const nothingToApply = await postEvents([withoutId, withoutMessage, badTime]);
    expect(nothingToApply.status).toBe(400);
    expect(nothingToApply.body.errors).toEqual([
      { field: "0.sg_event_id", reason: "is required" },
      { field: "1.sg_message_id", reason: "is required for bounce events" },
      { field: "2.timestamp", reason: "must be a number of Unix seconds" },
    ]);
    expect(
      await signed.db.callback.count({ where: { vendor: "sendgrid", kind: "email-event-refused", payload: { path: ["event"], string_contains: id } } }),
    ).toBe(0);

    // One odd event no longer keeps the delivery and the opt-out beside it out, batch after batch.
    const mixed = [good, withoutId, unsubscribe, badTime];
    const answer = await postEvents(mixed);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      stored: 2,
      refused: [
        { index: 1, errors: [{ field: "1.sg_event_id", reason: "is required" }] },
        { index: 3, errors: [{ field: "3.timestamp", reason: "must be a number of Unix seconds" }] },
      ],
    });
    expect(await storedEvents([good, unsubscribe])).toBe(2);
    expect(await attempt(row.id)).toMatchObject({ status: "delivered" });
    expect(await signed.db.optOut.count({ where: { accountId: row.accountId, channel: "email" } })).toBe(1);
    const kept = await signed.db.callback.findMany({
      where: { vendor: "sendgrid", kind: "email-event-refused", payload: { path: ["event"], string_contains: id } },
    });
    expect(kept).toHaveLength(2);
    expect(kept.every((k) => k.appliedAt !== null)).toBe(true);
    // SendGrid's retry of the same batch keeps nothing twice.
    expect((await postEvents(mixed)).status).toBe(200);
    expect(
      await signed.db.callback.count({ where: { vendor: "sendgrid", kind: "email-event-refused", payload: { path: ["event"], string_contains: id } } }),
    ).toBe(2);
  });

  it("refuses an open or click timestamp past the year 9999 with 400 naming it, storing nothing, and applies the last one allowed", async () => {
    const id = newMessageId();
    const row = await attemptWithMessageId(id);
    for (const timestamp of [10_000_000_000_000, Number.MAX_SAFE_INTEGER, 253_402_300_800]) {
      for (const kind of ["open", "click"]) {
        const events = [{ ...event(id, kind), timestamp }];
        const response = await postEvents(events);
        expect(response.status, `${kind} at ${timestamp}`).toBe(400);
        expect(response.body.errors).toEqual([{ field: "0.timestamp", reason: "must be Unix seconds before the year 10000" }]);
        expect(await storedEvents(events)).toBe(0);
      }
    }
    expect(await attempt(row.id)).toMatchObject({ openedAt: null, clickedAt: null });

    const last = [{ ...event(id, "open"), timestamp: 253_402_300_799 }];
    expect((await postEvents(last)).status).toBe(204);
    expect((await attempt(row.id)).openedAt).toEqual(new Date("9999-12-31T23:59:59Z"));
  });

  it("sets aside an event with a lone surrogate (valid JSON, but not storable by PostgreSQL), naming the field, and refuses a batch of only such", async () => {
    const id = newMessageId();
    await attemptWithMessageId(id);
    const inEmail = [event(id, "delivered"), event(id, "open", { email: "debtor\ud800@example.com" })];
    const prefix = randomUUID();
    const inEventId = [{ ...event(id, "click"), sg_event_id: `${prefix}\udc00` }];
    expect(JSON.stringify([inEmail, inEventId])).toMatch(/\\ud800.*\\udc00/); // sent escaped, as JSON allows

    const mixed = await postEvents(inEmail);
    expect(mixed.status).toBe(200);
    expect(mixed.body.refused).toEqual([{ index: 1, errors: [{ field: "1.email", reason: "must not contain unpaired surrogates" }] }]);
    expect(await storedEvents([inEmail[0]!])).toBe(1);
    // Kept as the text received, escapes and all.
    const kept = await signed.db.callback.findFirstOrThrow({
      where: { vendor: "sendgrid", kind: "email-event-refused", payload: { path: ["event"], string_contains: id } },
    });
    expect((kept.payload as { event: string }).event).toBe(JSON.stringify(inEmail[1]));

    const only = await postEvents(inEventId);
    expect(only.status).toBe(400);
    expect(only.body.errors).toEqual([{ field: "0.sg_event_id", reason: "must not contain unpaired surrogates" }]);
    // Looked up by its well-formed part: the query could not carry the lone surrogate either.
    expect(await signed.db.callback.count({ where: { vendor: "sendgrid", eventId: { startsWith: prefix } } })).toBe(0);
  });
});

describe("SendGrid events applied", () => {
  it("applies a duplicate batch once", async () => {
    const id = newMessageId();
    const row = await attemptWithMessageId(id);
    const batch = [event(id, "processed"), event(id, "delivered"), event(id, "open"), event(id, "click", { url: "https://example.com/pay" })];
    expect((await postEvents(batch)).status).toBe(204);
    const first = await attempt(row.id);
    expect(first).toMatchObject({ status: "delivered", openedAt: new Date(batch[2]!.timestamp * 1000), clickedAt: new Date(batch[3]!.timestamp * 1000) });
    expect((await postEvents(batch)).status).toBe(204);
    const second = await attempt(row.id);
    expect(second.updatedAt).toEqual(first.updatedAt);
    expect(await storedEvents(batch)).toBe(4);
    const callbacks = await signed.db.callback.findMany({ where: { vendor: "sendgrid", eventId: { in: batch.map((e) => e.sg_event_id) } } });
    expect(callbacks.every((c) => c.appliedAt !== null && c.kind === "email-event")).toBe(true);
    expect(callbacks.find((c) => c.eventId === batch[3]!.sg_event_id)!.payload).toEqual(batch[3]);
  });

  it("does not count an open a mail client made by fetching the message (sg_machine_open) as the debtor's", async () => {
    const id = newMessageId();
    const row = await attemptWithMessageId(id);
    const machine = event(id, "open", { sg_machine_open: true });
    expect((await postEvents([event(id, "delivered"), machine])).status).toBe(204);
    expect(await attempt(row.id)).toMatchObject({ status: "delivered", openedAt: null });
    expect(await storedEvents([machine])).toBe(1);
    const human = event(id, "open", { sg_machine_open: false });
    expect((await postEvents([human])).status).toBe(204);
    expect((await attempt(row.id)).openedAt).toEqual(new Date(human.timestamp * 1000));
  });

  it("ends delivered when delivered arrives before processed, and keeps the first open", async () => {
    const id = newMessageId();
    const row = await attemptWithMessageId(id);
    const processed = event(id, "processed");
    const open = event(id, "open");
    const laterOpen = event(id, "open");
    const delivered = event(id, "delivered");
    expect((await postEvents([delivered, laterOpen])).status).toBe(204);
    expect((await postEvents([open, processed])).status).toBe(204);
    expect(await attempt(row.id)).toMatchObject({ status: "delivered", openedAt: new Date(open.timestamp * 1000) });
  });

  it("fails the attempt on a bounce with its SMTP status, and a late delivered does not overwrite it", async () => {
    const id = newMessageId();
    const row = await attemptWithMessageId(id);
    const bounce = event(id, "bounce", { type: "bounce", status: "5.1.1", reason: "550 5.1.1 The email account that you tried to reach does not exist." });
    expect((await postEvents([event(id, "processed"), bounce])).status).toBe(204);
    expect(await attempt(row.id)).toMatchObject({ status: "failed", errorCode: "5.1.1" });
    expect((await postEvents([event(id, "delivered")])).status).toBe(204);
    expect(await attempt(row.id)).toMatchObject({ status: "failed", errorCode: "5.1.1" });
  });

  it("fails the attempt on a drop with its reason when SendGrid gives no status, and keeps deferred as stored only", async () => {
    const id = newMessageId();
    const row = await attemptWithMessageId(id);
    const deferred = event(id, "deferred", { response: "421 4.7.0 Try again later", attempt: "1" });
    expect((await postEvents([deferred])).status).toBe(204);
    expect(await attempt(row.id)).toMatchObject({ status: "queued" });
    expect((await signed.db.callback.findFirstOrThrow({ where: { eventId: deferred.sg_event_id } })).appliedAt).not.toBeNull();
    expect((await postEvents([event(id, "dropped", { reason: "Invalid" })])).status).toBe(204);
    expect(await attempt(row.id)).toMatchObject({ status: "failed", errorCode: "Invalid" });
  });

  it("keeps events that arrive before the attempt knows its message id, and applies them once it does", async () => {
    const id = newMessageId();
    const early = [event(id, "processed"), event(id, "delivered"), event(id, "open")];
    expect((await postEvents(early)).status).toBe(204);
    const stored = await signed.db.callback.findMany({ where: { eventId: { in: early.map((e) => e.sg_event_id) } } });
    expect(stored.map((c) => c.appliedAt)).toEqual([null, null, null]);

    const row = await attemptWithMessageId(id);
    const { applyPendingSendgridEvents } = await import("../store/sendgrid-events.ts");
    expect(await applyPendingSendgridEvents(signed.db, id)).toMatchObject({ attemptId: row.id, status: "delivered", outcome: "delivered" });
    expect(await attempt(row.id)).toMatchObject({ status: "delivered", openedAt: new Date(early[2]!.timestamp * 1000) });
    expect(await signed.db.callback.count({ where: { eventId: { in: early.map((e) => e.sg_event_id) }, appliedAt: null } })).toBe(0);
    expect(await applyPendingSendgridEvents(signed.db, id)).toBeUndefined();
  });

  it("opts the account out of email on a spam report or group unsubscribe, once, for every campaign", async () => {
    for (const kind of ["spamreport", "group_unsubscribe"]) {
      const id = newMessageId();
      const row = await attemptWithMessageId(id);
      const report = event(id, kind, { asm_group_id: 7 });
      expect((await postEvents([event(id, "delivered"), report, report])).status).toBe(204);
      expect(await signed.db.optOut.findMany({ where: { accountId: row.accountId } })).toMatchObject([{ channel: "email", source: `sendgrid-${kind}` }]);
      const gate = await api(signed.apiUrl, "GET", `/v1/accounts/${row.accountId}/compliance?channel=email`);
      expect(gate.body).toMatchObject({ allowed: false, nextAllowedAt: null });
      expect(gate.body.reasons.map((r: { rule: string }) => r.rule)).toContain("opt-out");
    }
  });

  it("applies an unsubscribe that names its account in custom args before the attempt knows its message id", async () => {
    const id = newMessageId();
    const row = await attemptWithMessageId(id, null);
    const unsubscribe = event(id, "unsubscribe", { attemptId: row.id, accountId: row.accountId });
    expect((await postEvents([unsubscribe])).status).toBe(204);
    expect(await signed.db.optOut.findFirst({ where: { accountId: row.accountId, channel: "email" } })).toMatchObject({ source: "sendgrid-unsubscribe" });
  });

  it("stores and acknowledges events it does not act on", async () => {
    const other = { timestamp: clock, event: "account_status_change", sg_event_id: randomBytes(16).toString("base64"), type: "compliance_suspend" };
    expect((await postEvents([other])).status).toBe(204);
    expect(await storedEvents([other])).toBe(1);
    expect((await postEvents([])).status).toBe(204);
  });
});
