import { randomBytes, randomUUID } from "node:crypto";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VendorSandbox } from "../sandbox/index.ts";
import type { AccountState } from "../workflows/account-messages.ts";
import type { startTestStack } from "./stack.ts";
import { createLogger } from "../runtime/logger.ts";
import { accountFixture, api, eventually, startTestStackWithSandbox } from "./stack.ts";
import { uniqueMobile, zoneAtLocalHour } from "./zones.ts";

// Our own vendor sandbox with credentials we know, so the test can sign inbound messages as
// Twilio does; the product sends to it as to any Twilio-compatible API.
let stack: Awaited<ReturnType<typeof startTestStack>>;
let sandbox: VendorSandbox;
const accountSid = `AC${randomBytes(16).toString("hex")}`;
const authToken = randomBytes(16).toString("hex");
const OPS = "+6221500123";

beforeAll(async () => {
  ({ stack, sandbox } = await startTestStackWithSandbox(
    { accountSid, authToken },
    { seed: 11, outcomes: { sms: { delivered: 1 } } },
    { TAGIH_OPS_PHONE: OPS, TAGIH_CREDITOR_NAME: "Bank Contoh" },
  ));
});
afterAll(async () => {
  await stack?.stop();
  await sandbox?.close();
});

const inboundUrl = () => `${stack.config.publicBaseUrl}/v1/webhooks/twilio/inbound`;
const newSid = () => `SM${randomBytes(16).toString("hex")}`;
const inbound = (from: string, body: string, sid = newSid()) => ({
  ToCountry: "US",
  SmsMessageSid: sid,
  NumMedia: "0",
  SmsSid: sid,
  SmsStatus: "received",
  Body: body,
  To: from.startsWith("whatsapp:") ? "whatsapp:+14155238886" : "+15005550006",
  NumSegments: "1",
  MessageSid: sid,
  AccountSid: accountSid,
  From: from,
  ApiVersion: "2010-04-01",
});

/** Posts an inbound message signed the way Twilio signs it (or with the given signature). */
async function postInbound(params: Record<string, string>, signature: string | null = twilio.getExpectedTwilioSignature(authToken, inboundUrl(), params)) {
  const response = await fetch(`${stack.apiUrl}/v1/webhooks/twilio/inbound`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(signature === null ? {} : { "x-twilio-signature": signature }) },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, body: await response.text(), contentType: response.headers.get("content-type") };
}

/** The texts of the TwiML <Message> verbs of an answer. */
const messagesOf = (twiml: string) => [...twiml.matchAll(/<Message>([\s\S]*?)<\/Message>/g)].map((m) => m[1]!);

// Phone numbers by `line`: accounts given one line share its number.
const lines = new Map<number, string>();

/** Stores accounts under a product of their own, `line` naming a phone they share; returns them as stored. */
async function accounts(...overrides: ({ line?: number } & Record<string, unknown>)[]) {
  const product = `loan-${randomUUID()}`;
  const timeZone = zoneAtLocalHour(12);
  const input = overrides.map(({ line, ...o }) =>
    accountFixture({ product, timeZone, ...(line === undefined ? {} : { phone: lines.get(line) ?? lines.set(line, uniqueMobile(timeZone)).get(line) }), ...o }),
  );
  const stored = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: input });
  expect(stored.status, JSON.stringify(stored.body)).toBe(200);
  const rows = await stack.db.account.findMany({ where: { product }, orderBy: { externalId: "asc" } });
  return { product, rows: input.map((a) => rows.find((r) => r.externalId === a.externalId)!) };
}

async function launch(product: string, steps: unknown[]) {
  const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", { name: `inbound ${randomUUID()}`, strategy: { steps }, segment: { products: [product] } });
  expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
  expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.body.id}/launch`)).status).toBe(202);
  return campaign.body.id as string;
}

const finished = (campaignId: string, count: number) =>
  eventually(async () => {
    const summary = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/summary`);
    return summary.body.finished === count ? summary.body : undefined;
  }, `${count} finished enrolments of ${campaignId}`);

const SMS_STEP = { id: "reminder-sms", kind: "contact", channel: "sms", template: "reminder" };

describe("inbound messages: signatures and input", () => {
  it("refuses a forged signature with 403 and stores nothing", async () => {
    const { rows } = await accounts({});
    const params = inbound(rows[0]!.phone!, "STOP");
    const forged = twilio.getExpectedTwilioSignature("not-the-token", inboundUrl(), params);
    const response = await postInbound(params, forged);
    expect(response.status).toBe(403);
    expect(response.contentType).toContain("application/problem+json");
    expect(await stack.db.callback.count({ where: { eventId: { startsWith: params.MessageSid } } })).toBe(0);
    expect(await stack.db.optOut.count({ where: { accountId: rows[0]!.id } })).toBe(0);
  });

  it("refuses a missing signature and a body altered after signing", async () => {
    const { rows } = await accounts({});
    const params = inbound(rows[0]!.phone!, "PAID");
    expect((await postInbound(params, null)).status).toBe(403);
    const signedForOther = twilio.getExpectedTwilioSignature(authToken, inboundUrl(), { ...params, Body: "PAID" });
    expect((await postInbound({ ...params, Body: "STOP" }, signedForOther)).status).toBe(403);
    expect(await stack.db.callback.count({ where: { eventId: { startsWith: params.MessageSid } } })).toBe(0);
    expect(await stack.db.optOut.count({ where: { accountId: rows[0]!.id } })).toBe(0);
  });

  it("answers a signed but malformed message with 400 naming the field", async () => {
    for (const from of ["+0812", "someone@example.com", "AVERYLONGSENDERNAME", "whatsapp:72345"]) {
      const response = await postInbound({ ...inbound("+6281234567890", "hi"), From: from });
      expect(response.status, from).toBe(400);
      expect(JSON.parse(response.body).errors).toEqual([
        { field: "From", reason: "must be an E.164 number (optionally prefixed whatsapp:), a short code or an alphanumeric sender" },
      ]);
    }
  });

  it.each(["72345", "VERIFY", "Bank 123"])("keeps a message from the short code or sender %s, which no account has", async (from) => {
    const params = inbound(from, "Your code is 1234");
    const response = await postInbound(params);
    expect(response.status).toBe(200);
    expect(messagesOf(response.body)).toEqual([]);
    const stored = await stack.db.callback.findFirstOrThrow({ where: { eventId: `${params.MessageSid}:inbound` } });
    expect(stored.appliedAt).not.toBeNull();
  });

  it.each([
    ["To", { To: "+".repeat(8_000) }],
    ["AccountSid", { AccountSid: "A".repeat(8_000) }],
  ])("answers an over-long %s with 400 naming it, and stores nothing", async (field, extra) => {
    const params = { ...inbound("+6281234567890", "hi"), ...extra };
    const response = await postInbound(params);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect(await stack.db.callback.count({ where: { eventId: { startsWith: params.MessageSid } } })).toBe(0);
  });

  it("answers a message with a NUL character (which PostgreSQL cannot store) 400 naming the field, and stores nothing", async () => {
    const params = inbound("+6281234567890", "PAID\u0000");
    const response = await postInbound(params);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).errors).toEqual([{ field: "Body", reason: "must not contain NUL characters" }]);
    expect(await stack.db.callback.count({ where: { eventId: { startsWith: params.MessageSid } } })).toBe(0);
  });

  it("answers a number no account has with empty TwiML and stores the message", async () => {
    const params = inbound("+15005559999", "STOP");
    const response = await postInbound(params);
    expect(response.status).toBe(200);
    expect(response.contentType).toContain("text/xml");
    expect(messagesOf(response.body)).toEqual([]);
    expect(response.body).toContain("<Response/>");
    const stored = await stack.db.callback.findUniqueOrThrow({ where: { vendor_eventId: { vendor: "twilio", eventId: `${params.MessageSid}:inbound` } } });
    expect(stored).toMatchObject({ kind: "inbound-message", payload: params });
    expect(stored.appliedAt).not.toBeNull();
  });
});

describe("inbound keywords", () => {
  it("opts every account of the number out of SMS with one confirmation; a repeated STOP gets none", async () => {
    // One debtor, two accounts (a card and a loan) on the same phone.
    const { rows } = await accounts({ line: 1 }, { line: 1 });
    const phone = rows[0]!.phone!;
    const first = inbound(phone, " Stop ");
    const answer = await postInbound(first);
    expect(answer.status).toBe(200);
    expect(messagesOf(answer.body)).toEqual(["Bank Contoh: Anda tidak akan menerima SMS dari kami lagi. Balas START untuk berlangganan kembali."]);
    const optOuts = await stack.db.optOut.findMany({ where: { accountId: { in: rows.map((r) => r.id) } } });
    expect(optOuts.map((o) => [o.accountId, o.channel, o.source]).sort()).toEqual(rows.map((r) => [r.id, "sms", "inbound:STOP"]).sort());

    // Twilio redelivers the same message, then the debtor sends STOP again.
    const redelivered = await postInbound(first);
    expect(redelivered.status).toBe(200);
    expect(messagesOf(redelivered.body)).toEqual([]);
    const again = await postInbound(inbound(phone, "STOP"));
    expect(messagesOf(again.body)).toEqual([]);
    expect(await stack.db.callback.count({ where: { eventId: `${first.MessageSid}:inbound` } })).toBe(1);
    expect(await stack.db.optOut.count({ where: { accountId: { in: rows.map((r) => r.id) } } })).toBe(2);
  });

  it("after STOP no SMS goes out from any campaign: a new campaign's attempt is blocked by the gate with opt-out", async () => {
    const { product, rows } = await accounts({});
    const [account] = rows;
    const first = await launch(product, [SMS_STEP]);
    await finished(first, 1);
    expect(sandbox.messages().filter((m) => m.to === account!.phone)).toHaveLength(1);

    expect(messagesOf((await postInbound(inbound(account!.phone!, "UNSUBSCRIBE"))).body)).toHaveLength(1);

    const second = await launch(product, [SMS_STEP]);
    const summary = await finished(second, 1);
    expect(summary).toMatchObject({ attempted: 0, outcomes: { "not-contacted": 1 } });
    const enrolment = await stack.db.enrolment.findFirstOrThrow({ where: { campaignId: second } });
    const blocked = await stack.db.complianceDecision.findMany({ where: { enrolmentId: enrolment.id, channel: "sms", allowed: false } });
    expect(blocked.length).toBeGreaterThan(0);
    expect((blocked[0]!.reasons as { rule: string }[]).map((r) => r.rule)).toContain("opt-out");
    expect(blocked[0]!.nextAllowedAt).toBeNull();
    await sandbox.idle();
    expect(sandbox.messages().filter((m) => m.to === account!.phone)).toHaveLength(1);
  });

  it("takes a message clearly asking to stop as an opt-out", async () => {
    const { rows } = await accounts({});
    const answer = await postInbound(inbound(rows[0]!.phone!, "please stop texting me"));
    expect(messagesOf(answer.body)).toHaveLength(1);
    expect(await stack.db.optOut.findUnique({ where: { accountId_channel: { accountId: rows[0]!.id, channel: "sms" } } })).toMatchObject({
      source: "inbound:text",
    });
  });

  it("takes 'STOP' in plain single quotes as the keyword STOP", async () => {
    const { rows } = await accounts({});
    const answer = await postInbound(inbound(rows[0]!.phone!, "'STOP'"));
    expect(messagesOf(answer.body)).toHaveLength(1);
    expect(await stack.db.optOut.findUnique({ where: { accountId_channel: { accountId: rows[0]!.id, channel: "sms" } } })).toMatchObject({
      source: "inbound:STOP",
    });
  });

  it("opts back in on START with a confirmation", async () => {
    const { rows } = await accounts({ locale: "en-IN" });
    const phone = rows[0]!.phone!;
    await postInbound(inbound(phone, "STOPALL"));
    const answer = await postInbound(inbound(phone, "start"));
    expect(messagesOf(answer.body)).toEqual(["Bank Contoh: you will receive text messages from us again. Reply STOP to opt out."]);
    expect(await stack.db.optOut.count({ where: { accountId: rows[0]!.id } })).toBe(0);
    expect(await stack.db.auditEntry.findMany({ where: { targetId: rows[0]!.id, action: { startsWith: "account.opt-" } } })).toEqual([
      expect.objectContaining({ actor: "debtor", action: "account.opt-in", detail: expect.objectContaining({ channel: "sms", source: "inbound:STOPALL" }) }),
    ]);
    // STOP after START is a new opt-out, confirmed again.
    expect(messagesOf((await postInbound(inbound(phone, "QUIT"))).body)).toHaveLength(1);
  });

  it.each(["Yes", "START", "unstop"])(
    "keeps an opt-out ops recorded (from a call or a letter) when the debtor texts %s, tells them to contact the lender, and audits the refusal",
    async (body) => {
      const { rows } = await accounts({ phone: `+62 812-1112-${String(1000 + body.length)}`, locale: "en-IN" });
      const [account] = rows;
      expect((await api(stack.apiUrl, "POST", `/v1/accounts/${account!.id}/opt-outs`, { channel: "sms" })).status).toBe(200);
      const params = inbound(account!.phone!, body);
      const answer = await postInbound(params);
      expect(messagesOf(answer.body)).toEqual([
        `Bank Contoh: you asked us by other means not to send you text messages, and a reply cannot change that. To receive them again, please contact Bank Contoh on ${OPS}.`,
      ]);
      expect(await stack.db.optOut.findMany({ where: { accountId: account!.id } })).toEqual([expect.objectContaining({ channel: "sms", source: "ops" })]);

      const audit = await api(stack.apiUrl, "GET", "/v1/audit?action=account.opt-in-refuse&limit=100");
      const entries = audit.body.items.filter((e: { target: { id: string } }) => e.target.id === account!.id);
      expect(entries).toEqual([
        expect.objectContaining({
          actor: "debtor",
          target: { type: "account", id: account!.id },
          detail: { channel: "sms", keyword: body.toUpperCase(), messageSid: params.MessageSid, source: "ops" },
        }),
      ]);
      expect(JSON.stringify(entries)).not.toContain(account!.phone!.slice(3));
    },
  );

  it("lifts by text only the opt-outs the debtor made by text: one account of the number opted in, the other's ops opt-out kept, each audited", async () => {
    const { rows } = await accounts({ line: 10, locale: "en-IN" }, { line: 10, locale: "en-IN" });
    const [texted, recorded] = rows;
    await api(stack.apiUrl, "POST", `/v1/accounts/${recorded!.id}/opt-outs`, { channel: "sms", source: "letter" });
    await postInbound(inbound(texted!.phone!, "STOP"));
    const params = inbound(texted!.phone!, "START");
    const answer = await postInbound(params);
    expect(messagesOf(answer.body)).toEqual([
      `Bank Contoh: you asked us by other means not to send you text messages, and a reply cannot change that. To receive them again, please contact Bank Contoh on ${OPS}.`,
    ]);
    expect(await stack.db.optOut.findMany({ where: { accountId: { in: [texted!.id, recorded!.id] } } })).toEqual([
      expect.objectContaining({ accountId: recorded!.id, channel: "sms", source: "letter" }),
    ]);
    const entries = await stack.db.auditEntry.findMany({ where: { targetId: { in: [texted!.id, recorded!.id] }, actor: "debtor" } });
    expect(entries.map((e) => [e.targetId, e.action, e.detail]).sort()).toEqual(
      [
        [texted!.id, "account.opt-in", { channel: "sms", keyword: "START", messageSid: params.MessageSid, source: "inbound:STOP" }],
        [recorded!.id, "account.opt-in-refuse", { channel: "sms", keyword: "START", messageSid: params.MessageSid, source: "letter" }],
      ].sort(),
    );
  });

  // Before, ops could record an opt-out with a source such as "inbound:letter", and the debtor's START lifted it.
  it("refuses an ops opt-out whose source claims the debtor texted it, naming source, and records nothing", async () => {
    const { rows } = await accounts({});
    for (const source of ["inbound:STOP", "Inbound:letter"]) {
      const refused = await api(stack.apiUrl, "POST", `/v1/accounts/${rows[0]!.id}/opt-outs`, { channel: "sms", source });
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([{ field: "source", reason: expect.stringContaining('must not start with "inbound:"') }]);
    }
    expect(await stack.db.optOut.count({ where: { accountId: rows[0]!.id } })).toBe(0);
  });

  it("answers HELP with the help text naming the ops line, and changes nothing", async () => {
    const { rows } = await accounts({ locale: "en-IN" });
    const answer = await postInbound(inbound(rows[0]!.phone!, "HELP"));
    expect(messagesOf(answer.body)).toEqual([`Bank Contoh account messages. For help call ${OPS}. Reply STOP to opt out, START to opt back in.`]);
    expect(await stack.db.optOut.count({ where: { accountId: rows[0]!.id } })).toBe(0);
  });
});

describe("inbound replies", () => {
  it("records other text on the latest SMS attempt and routes it to the account's running journeys", async () => {
    const { product, rows } = await accounts({});
    const [account] = rows;
    const campaignId = await launch(product, [SMS_STEP, { id: "later", kind: "wait", duration: "P3D" }]);
    const enrolment = await eventually(
      async () => (await stack.db.enrolment.findFirst({ where: { campaignId, attempts: { some: { status: "delivered" } } } })) ?? undefined,
      "a delivered SMS",
    );
    const handle = stack.temporal.workflow.getHandle(enrolment.workflowId);
    await eventually(async () => ((await handle.query<AccountState>("accountState")).stepId === "later" ? true : undefined), "the wait step");

    const answer = await postInbound(inbound(account!.phone!, "PTP 25/12"));
    expect(answer.status).toBe(200);
    expect(messagesOf(answer.body)).toEqual([]);
    const state = await eventually(async () => {
      const s = await handle.query<AccountState>("accountState");
      return s.lastReply ? s : undefined;
    }, "the reply in the journey");
    expect(state.lastReply).toMatchObject({ channel: "sms", text: "PTP 25/12" });
    const attempt = await stack.db.contactAttempt.findFirstOrThrow({ where: { enrolmentId: enrolment.id } });
    expect(attempt.repliedAt).not.toBeNull();
    expect(await stack.db.optOut.count({ where: { accountId: account!.id } })).toBe(0);
    await api(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/cancel`);
  });

  it("finishes, on the next sweep, a message a stopped process stored but never acted on: a STOP is recorded, a reply reaches the journey", async () => {
    const { product, rows } = await accounts({}, {});
    const [stopper, replier] = rows;
    const campaignId = await launch(product, [SMS_STEP, { id: "later", kind: "wait", duration: "P3D" }]);
    const enrolment = await eventually(
      async () =>
        (await stack.db.enrolment.findFirst({ where: { campaignId, accountId: replier!.id, attempts: { some: { status: "delivered" } } } })) ?? undefined,
      "a delivered SMS",
    );
    const handle = stack.temporal.workflow.getHandle(enrolment.workflowId);
    await eventually(async () => ((await handle.query<AccountState>("accountState")).stepId === "later" ? true : undefined), "the wait step");
    // As the webhook stores them before acting, a minute ago.
    const stranded = [inbound(stopper!.phone!, "STOP"), inbound(replier!.phone!, "I will pay on Friday")];
    for (const params of stranded) {
      await stack.db.callback.create({
        data: {
          vendor: "twilio",
          eventId: `${params.MessageSid}:inbound`,
          kind: "inbound-message",
          payload: params,
          receivedAt: new Date(Date.now() - 60_000),
        },
      });
    }
    const { applyStrandedInbound } = await import("../api/webhooks/twilio-inbound.ts");
    expect(await applyStrandedInbound({ db: stack.db, temporal: stack.temporal, logger: createLogger("warn") })).toBeGreaterThanOrEqual(2);
    expect(await stack.db.optOut.findMany({ where: { accountId: stopper!.id } })).toEqual([expect.objectContaining({ channel: "sms" })]);
    const state = await eventually(async () => {
      const s = await handle.query<AccountState>("accountState");
      return s.lastReply ? s : undefined;
    }, "the reply in the journey");
    expect(state.lastReply).toMatchObject({ channel: "sms", text: "I will pay on Friday" });
    const after = await stack.db.callback.findMany({ where: { eventId: { in: stranded.map((p) => `${p.MessageSid}:inbound`) } } });
    expect(after.map((c) => c.appliedAt !== null)).toEqual([true, true]);
    await api(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/cancel`);
  });

  it("takes YES from a debtor who never opted out as a reply, not an opt-in", async () => {
    const { rows } = await accounts({});
    const params = inbound(rows[0]!.phone!, "YES");
    expect(messagesOf((await postInbound(params)).body)).toEqual([]);
    expect((await stack.db.callback.findFirstOrThrow({ where: { eventId: `${params.MessageSid}:inbound` } })).appliedAt).not.toBeNull();
  });

  it("opens the WhatsApp window on a WhatsApp message, and a WhatsApp STOP opts out of WhatsApp only", async () => {
    const { rows } = await accounts({ consent: { whatsapp: true } });
    const [account] = rows;
    const before = Date.now();
    await postInbound(inbound(`whatsapp:${account!.phone}`, "Halo, saya mau bayar"));
    const opened = await stack.db.account.findUniqueOrThrow({ where: { id: account!.id } });
    expect(opened.lastWhatsappInboundAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);

    const answer = await postInbound(inbound(`whatsapp:${account!.phone}`, "STOP"));
    expect(messagesOf(answer.body)).toEqual(["Bank Contoh: Anda tidak akan menerima pesan WhatsApp dari kami lagi. Balas START untuk berlangganan kembali."]);
    expect((await stack.db.optOut.findMany({ where: { accountId: account!.id } })).map((o) => o.channel)).toEqual(["whatsapp"]);
  });
});
