import { randomBytes, randomUUID } from "node:crypto";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { speechFor } from "../activities/channels/voice.ts";
import { createPaymentLinks } from "../api/webhooks/payment-links.ts";
import { parseKeypadDate, promiseWindow } from "../api/webhooks/twilio-voice.ts";
import type { OutcomeMix, VendorSandbox } from "../sandbox/index.ts";
import { claimPaymentLinkAttempt } from "../store/voice.ts";
import { renderTemplate, resolveTemplate, type TemplateContext } from "../templates/render.ts";
import { createTwilioClient } from "../vendors/twilio.ts";
import type { AccountState } from "../workflows/account-messages.ts";
import type { startTestStack } from "./stack.ts";
import { createLogger } from "../runtime/logger.ts";
import { accountFixture, api, eventually, seedAttempt, startTestStackWithSandbox } from "./stack.ts";

// Our own vendor sandbox with credentials we know, so the test can sign requests as Twilio.
let stack: Awaited<ReturnType<typeof startTestStack>>;
let sandbox: VendorSandbox;
const accountSid = `AC${randomBytes(16).toString("hex")}`;
const authToken = randomBytes(16).toString("hex");
const OPS = "+6221500123";
const PAY = "https://pay.example.com/p";

beforeAll(async () => {
  ({ stack, sandbox } = await startTestStackWithSandbox(
    { accountSid, authToken },
    { seed: 13, outcomes: { sms: { delivered: 1 } } },
    { TAGIH_OPS_PHONE: OPS, TAGIH_PAYMENT_LINK_BASE: PAY, TAGIH_CREDITOR_NAME: "Bank Contoh", TAGIH_VOICEMAIL_NAME: "Maya" },
  ));
});
afterAll(async () => {
  await stack?.stop();
  await sandbox?.close();
});

const nbsp = (text: string) => text.replace(/\u00a0/g, " ");
/** A valid promise date `days` ahead, as keyed (DDMMYYYY) and as stored (YYYY-MM-DD). */
function dateAhead(days: number) {
  const iso = new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
  const [y, m, d] = iso.split("-");
  return { iso, keyed: `${d}${m}${y}` };
}

/** One account with a one-call campaign over it, launched with this outcome mix; returns what happened. */
async function call(voice: OutcomeMix["voice"], account: Record<string, unknown> = {}, before?: (accountId: string) => Promise<void>) {
  sandbox.setOutcomes({ voice });
  const product = `loan-${randomUUID()}`;
  const fixture = accountFixture({ product, ...account });
  expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [fixture] })).status).toBe(200);
  const stored = await stack.db.account.findUniqueOrThrow({ where: { externalId: fixture.externalId } });
  await before?.(stored.id);
  const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", {
    name: `ivr ${randomUUID()}`,
    strategy: { steps: [{ id: "call", kind: "contact", channel: "voice", template: "reminder" }] },
    segment: { products: [product] },
  });
  expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
  await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.body.id}/launch`);
  const attempt = await eventually(async () => {
    // The call's attempt: a payment link it texted is an attempt of the journey too.
    const found = await stack.db.contactAttempt.findFirst({
      where: { enrolment: { campaignId: campaign.body.id }, channel: "voice", vendorId: { not: null } },
    });
    return found && sandbox.calls().find((c) => c.sid === found.vendorId)?.duration != null ? found : undefined;
  }, "the call to end");
  await sandbox.idle();
  const placed = sandbox.calls().find((c) => c.sid === attempt.vendorId)!;
  const twiml = sandbox
    .callbacks()
    .filter((cb) => cb.resourceId === placed.sid && ["voice-url", "gather", "redirect"].includes(cb.kind))
    .map((cb) => ({ kind: cb.kind, url: cb.url, status: cb.statusCode, body: nbsp(cb.responseBody ?? "") }));
  const enrolment = await stack.db.enrolment.findFirstOrThrow({ where: { campaignId: campaign.body.id } });
  return { account: stored, campaignId: campaign.body.id as string, enrolment, placed, twiml, attemptId: attempt.id };
}

const attemptRow = (id: string) => stack.db.contactAttempt.findUniqueOrThrow({ where: { id } });
const newCallSid = () => `CA${randomBytes(16).toString("hex")}`;

/** Posts a form to a voice webhook (path and query), signed as Twilio signs it. */
async function signedPost(pathAndQuery: string, params: Record<string, string>) {
  const response = await fetch(`${stack.apiUrl}${pathAndQuery}`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": twilio.getExpectedTwilioSignature(authToken, `${stack.config.publicBaseUrl}${pathAndQuery}`, params),
    },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, contentType: response.headers.get("content-type"), body: await response.text() };
}

describe("IVR calls through Twilio", () => {
  it("keypad 2 records a promise to pay, confirmed back, and pauses the account's journey", async () => {
    const due = dateAhead(20);
    const { account, campaignId, enrolment, placed, twiml, attemptId } = await call({ completed: 1, digits: ["2", `${due.keyed}#`, "1"] });

    // The call: our script URL for the attempt, answering-machine detection, every progress event.
    expect(placed).toMatchObject({
      to: account.phone,
      url: `${stack.config.publicBaseUrl}/v1/webhooks/twilio/voice/attempts/${attemptId}`,
      machineDetection: "DetectMessageEnd",
      statusCallback: `${stack.config.publicBaseUrl}/v1/webhooks/twilio/voice/status`,
      answeredBy: "human",
      digitsSent: ["2", due.keyed, "1"],
    });
    expect(placed.statusCallbackEvents).toEqual(["initiated", "ringing", "answered", "completed"]);

    // Greeting in the debtor's language with the disclosure and the amount, then the menu.
    const [greeting, menu, dateEntry, confirm] = twiml;
    expect(twiml.map((t) => [t.kind, t.status])).toEqual([
      ["voice-url", 200],
      ["gather", 200],
      ["gather", 200],
      ["gather", 200],
    ]);
    expect(greeting!.body).toContain('<Say language="id-ID">Halo Budi. Ini Bank Contoh. Panggilan ini adalah upaya penagihan utang');
    expect(greeting!.body).toContain("Rp 1.500.000");
    expect(greeting!.body).toMatch(/<Gather input="dtmf" numDigits="1" timeout="6" method="POST" action="[^"]+\/menu">/);
    expect(greeting!.body).toContain(
      "Untuk membayar sekarang, tekan 1. Untuk menjanjikan tanggal pembayaran, tekan 2. Untuk berbicara dengan petugas, tekan 3.",
    );
    expect(menu!.body).toContain('finishOnKey="#"');
    expect(dateEntry!.body).toContain(`action="${stack.config.publicBaseUrl}/v1/webhooks/twilio/voice/attempts/${attemptId}/promise-confirm?date=${due.iso}"`);
    expect(dateEntry!.body).toContain("Anda berjanji membayar Rp 1.500.000 paling lambat");
    expect(confirm!.body).toContain("telah dicatat");

    const promise = await stack.db.paymentPromise.findFirstOrThrow({ where: { accountId: account.id } });
    expect(promise).toMatchObject({ enrolmentId: enrolment.id, amountMinor: 150_000_000n, currency: "IDR", status: "open", source: "ivr" });
    expect(promise.dueDate.toISOString().slice(0, 10)).toBe(due.iso);

    const state = await eventually(async () => {
      const s = await stack.temporal.workflow.getHandle(enrolment.workflowId).query<AccountState>("accountState");
      return s.promise && s.waitingFor?.startsWith("promise") ? s : undefined;
    }, "the journey to wait on the promise");
    expect(state.promise).toMatchObject({ promiseId: promise.id, amountMinor: "150000000", dueDate: due.iso });
    expect(state.lastOutcome).toBe("delivered");

    const attempt = await attemptRow(attemptId);
    expect(attempt).toMatchObject({ status: "delivered", vendorId: placed.sid });
    expect(attempt.conversationAt).not.toBeNull();
    expect((await stack.db.enrolment.findUniqueOrThrow({ where: { id: enrolment.id } })).status).toBe("running");
    // Every callback of the call was stored once and applied.
    const callbacks = await stack.db.callback.findMany({ where: { vendor: "twilio", payload: { path: ["CallSid"], equals: placed.sid } } });
    expect(callbacks.filter((cb) => cb.appliedAt === null)).toEqual([]);
    expect(
      callbacks
        .filter((cb) => cb.kind === "call-status")
        .map((cb) => cb.eventId.split(":")[1])
        .sort(),
    ).toEqual(["completed", "in-progress", "initiated", "ringing"]);
    await api(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/cancel`);
  });

  it("on an answering machine leaves only a limited-content voicemail: nothing about the debt", async () => {
    const { placed, twiml, attemptId, campaignId } = await call({ machine: 1 });
    expect(placed.answeredBy).toMatch(/^machine_/);
    expect(twiml).toHaveLength(1);
    const [voicemail] = twiml;
    expect(voicemail!.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="id-ID">Halo, ini Maya dari Bank Contoh. Mohon hubungi kami kembali di nomor 6 2 2 1 5 0 0 1 2 3. Terima kasih.</Say><Hangup/></Response>',
    );
    expect(voicemail!.body).not.toMatch(/Budi|Rp|1\.500\.000|utang|tagihan|debt|Gather/i);

    const attempt = await attemptRow(attemptId);
    expect(attempt).toMatchObject({ status: "undelivered", errorCode: "answering-machine", conversationAt: null });
    await eventually(async () => {
      const summary = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/summary`);
      return summary.body.outcomes["not-contacted"] === 1 ? true : undefined;
    }, "the journey to end not contacted");
  });

  it("keypad 1 texts a payment link to the debtor", async () => {
    const { account, twiml, attemptId } = await call({ completed: 1, digits: ["1"] });
    expect(twiml[1]!.body).toContain("Kami telah mengirim tautan pembayaran melalui SMS");
    const links = sandbox.messages().filter((m) => m.to === account.phone && m.channel === "sms");
    expect(links).toHaveLength(1);
    expect(nbsp(links[0]!.body)).toBe(`Bank Contoh: bayar Rp 1.500.000 dengan aman di ${PAY}/${account.id}?attempt=${attemptId} Balas STOP untuk berhenti.`);
    expect((await attemptRow(attemptId)).conversationAt).not.toBeNull();
  });

  // Before, the text went out unrecorded: on no attempt list, never moved by its status, and
  // missing from the report's attempted, units and cost although Twilio bills it.
  it("keypad 1's text is an SMS attempt of the call's journey: on the account's attempts, delivered by its status callback, counted and billed in the campaign's report", async () => {
    const { account, campaignId, enrolment } = await call({ completed: 1, digits: ["1"] });
    const [link] = sandbox.messages().filter((m) => m.to === account.phone && m.channel === "sms");
    expect(link).toBeDefined();
    expect(link!.statusCallback).toBe(`${stack.config.publicBaseUrl}/v1/webhooks/twilio/status`);

    const listed = await eventually(async () => {
      const page = await api(stack.apiUrl, "GET", `/v1/accounts/${account.id}`);
      const found = page.body.attempts.find((a: { channel: string }) => a.channel === "sms");
      return found?.status === "delivered" ? found : undefined;
    }, "the text's attempt delivered");
    expect(listed).toMatchObject({ campaignId, stepId: "call:pay-link", channel: "sms", status: "delivered", errorCode: null, sentAt: expect.any(String) });
    expect(await attemptRow(listed.id)).toMatchObject({ enrolmentId: enrolment.id, visit: 1, vendor: "twilio", vendorId: link!.sid, units: link!.numSegments });

    const report = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/report?by=step,channel&from=2000-01-01&to=2100-12-31`);
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    const text = report.body.rows.find((r: { step: string }) => r.step === "call:pay-link");
    // India's default unit cost: 0.003 USD per segment.
    const cost = link!.numSegments * 0.003;
    expect(text).toMatchObject({ channel: "sms", attempted: 1, delivered: 1, units: link!.numSegments, costCurrency: "USD" });
    expect(text.costSms).toBeCloseTo(cost, 6);
    expect(report.body.totals[0].costSms).toBeCloseTo(cost, 6);
    await api(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/cancel`);
  });

  // Before, two deliveries of the keypress at once each found the text unsent and sent it.
  it("keypad 1 delivered twice at once by Twilio texts once and records one attempt", async () => {
    const sid = newCallSid();
    const call = await seedAttempt(stack.db, { vendorId: sid, channel: "voice", status: "sent" });
    const path = `/v1/webhooks/twilio/voice/attempts/${call.id}/menu`;
    const keypress = { CallSid: sid, AccountSid: accountSid, Digits: "1" };
    const answers = await Promise.all([signedPost(path, keypress), signedPost(path, keypress)]);
    for (const answer of answers) expect(answer).toMatchObject({ status: 200, body: expect.stringContaining("We have sent a payment link by text message") });
    await sandbox.idle();
    expect(sandbox.messages().filter((m) => m.body.includes(`/${call.accountId}?attempt=${call.id}`))).toHaveLength(1);
    const texts = await stack.db.contactAttempt.findMany({ where: { enrolmentId: call.enrolmentId, channel: "sms" } });
    expect(texts).toMatchObject([{ stepId: "voice-1:pay-link", vendorId: expect.stringMatching(/^SM/) }]);
    // A later delivery of it sends nothing either.
    expect((await signedPost(path, keypress)).body).toContain("We have sent a payment link by text message");
    await sandbox.idle();
    expect(sandbox.messages().filter((m) => m.body.includes(`/${call.accountId}?attempt=${call.id}`))).toHaveLength(1);
  });

  // Before, Twilio's refusal failed the request, and the caller heard an application error.
  it("keypad 1 whose text Twilio refuses records a failed attempt with Twilio's code and offers the menu again", async () => {
    const sid = newCallSid();
    const call = await seedAttempt(stack.db, { vendorId: sid, channel: "voice", status: "sent" });
    await stack.db.account.update({ where: { id: call.accountId }, data: { phone: "+15005550004" } });
    const answer = await signedPost(`/v1/webhooks/twilio/voice/attempts/${call.id}/menu`, { CallSid: sid, AccountSid: accountSid, Digits: "1" });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain("Sorry, we cannot send text messages to this number.");
    expect(answer.body).toContain("<Gather");
    const texts = await stack.db.contactAttempt.findMany({ where: { enrolmentId: call.enrolmentId, channel: "sms" } });
    expect(texts).toMatchObject([{ stepId: "voice-1:pay-link", status: "failed", errorCode: "21610", vendorId: null, sentAt: expect.any(Date) }]);
  });

  it("keypad 1 sends no text to a debtor who opted out of SMS", async () => {
    const optOut = (accountId: string) => stack.db.optOut.create({ data: { accountId, channel: "sms", source: "test" } }).then(() => undefined);
    const { account, twiml } = await call({ completed: 1, digits: ["1"] }, {}, optOut);
    expect(twiml[1]!.body).toContain("Maaf, kami tidak dapat mengirim SMS ke nomor ini.");
    expect(sandbox.messages().filter((m) => m.to === account.phone)).toHaveLength(0);
    expect(await stack.db.contactAttempt.count({ where: { accountId: account.id, channel: "sms" } })).toBe(0);
  });

  it("keypad 3 dials the ops line", async () => {
    const { twiml } = await call({ completed: 1, digits: ["3"] });
    expect(twiml[1]!.body).toContain("Mohon tunggu, kami sedang menghubungkan Anda dengan petugas.");
    expect(twiml[1]!.body).toMatch(new RegExp(`<Dial callerId="\\+15005550006" timeout="30">\\${OPS}</Dial>`));
  });

  it("re-asks an invalid date, then records the valid one", async () => {
    const due = dateAhead(10);
    const { account, twiml } = await call({ completed: 1, digits: ["2", "31022026#", `${due.keyed}#`, "1"] });
    expect(twiml[2]!.body).toContain("Maaf, tanggal tersebut tidak valid.");
    const promise = await stack.db.paymentPromise.findFirstOrThrow({ where: { accountId: account.id } });
    expect(promise.dueDate.toISOString().slice(0, 10)).toBe(due.iso);
    expect(await stack.db.paymentPromise.count({ where: { accountId: account.id } })).toBe(1);
  });

  it.each([
    ["busy", "failed", "busy"],
    ["no-answer", "failed", "no-answer"],
  ] as const)("maps a %s call to %s", async (outcome, status, errorCode) => {
    const { attemptId, twiml } = await call({ [outcome]: 1 });
    expect(twiml).toHaveLength(0);
    expect(await attemptRow(attemptId)).toMatchObject({ status, errorCode, conversationAt: null });
  });
});

// Before, a process that stopped between claiming the text and recording Twilio's answer left
// its attempt \`dispatching\` for ever: the link never went out (or went out unrecorded), and a
// repeated keypress sent nothing, taking the claim for a send.
describe("payment-link texts a stopped process left half-sent", () => {
  const paymentLinks = () =>
    createPaymentLinks({
      db: stack.db,
      logger: createLogger("warn"),
      channels: { accountSid, apiBaseUrl: sandbox.url, smsFrom: stack.config.smsFrom, creditorName: "Bank Contoh", paymentLinkBase: PAY },
      settings: { publicBaseUrl: stack.config.publicBaseUrl, twilioAuthToken: authToken },
    });
  /** A call whose payment-link text was claimed `minutesAgo` and never recorded as sent; `before` runs while the claim is fresh, so no sweep takes it yet. */
  async function halfSent(minutesAgo: number, before?: (call: { id: string; accountId: string }) => Promise<void>) {
    const call = await seedAttempt(stack.db, { vendorId: newCallSid(), channel: "voice", status: "sent" });
    const { id } = await claimPaymentLinkAttempt(stack.db, call);
    await before?.(call);
    const at = new Date(Date.now() - minutesAgo * 60_000);
    await stack.db.$executeRaw`UPDATE contact_attempts SET created_at = ${at}, updated_at = ${at} WHERE id = ${id}::uuid`;
    return { call, linkAttemptId: id };
  }
  const textsOf = (call: { id: string; accountId: string }) => sandbox.messages().filter((m) => m.body.includes(`${PAY}/${call.accountId}?attempt=${call.id}`));

  it("are sent by the sweep, once even when two sweeps run at once, and recorded on their attempt", async () => {
    const { call, linkAttemptId } = await halfSent(1);
    await Promise.all([paymentLinks().finishStranded(), paymentLinks().finishStranded()]);
    await sandbox.idle();
    const texts = textsOf(call);
    expect(texts).toHaveLength(1);
    expect(nbsp(texts[0]!.body)).toContain("Reply STOP to opt out.");
    const attempt = await attemptRow(linkAttemptId);
    expect(attempt).toMatchObject({ vendorId: texts[0]!.sid, sentAt: expect.any(Date), errorCode: null });
    expect(attempt.status).not.toBe("dispatching");
    await paymentLinks().finishStranded();
    await sandbox.idle();
    expect(textsOf(call)).toHaveLength(1);
  });

  it("that reached Twilio before the process stopped are recorded as sent, not sent again", async () => {
    let sid = "";
    const { call, linkAttemptId } = await halfSent(1, async (call) => {
      const client = createTwilioClient({ accountSid, authToken, apiBaseUrl: sandbox.url });
      ({ sid } = await client.messages.create({
        to: "+919876543210",
        from: stack.config.smsFrom,
        body: `Bank Contoh: pay at ${PAY}/${call.accountId}?attempt=${call.id}`,
      }));
    });
    await paymentLinks().finishStranded();
    await sandbox.idle();
    expect(textsOf(call)).toHaveLength(1);
    expect(await attemptRow(linkAttemptId)).toMatchObject({ vendorId: sid, sentAt: expect.any(Date) });
  });

  it("are given up, unsent, once the keypress is over 15 minutes old or the debtor opted out of SMS since", async () => {
    const late = await halfSent(20);
    const optedOut = await halfSent(1, (call) =>
      stack.db.optOut.create({ data: { accountId: call.accountId, channel: "sms", source: "test" } }).then(() => undefined),
    );
    await paymentLinks().finishStranded();
    await sandbox.idle();
    expect(textsOf(late.call)).toHaveLength(0);
    expect(textsOf(optedOut.call)).toHaveLength(0);
    expect(await attemptRow(late.linkAttemptId)).toMatchObject({ status: "failed", errorCode: "too-late", vendorId: null, sentAt: null });
    expect(await attemptRow(optedOut.linkAttemptId)).toMatchObject({ status: "failed", errorCode: "opted-out", vendorId: null, sentAt: null });
  });
});

describe("IVR calls that cannot be scripted", () => {
  it("fail permanently before the phone rings when the greeting template does not exist in the debtor's language", async () => {
    const product = `loan-${randomUUID()}`;
    const fixture = accountFixture({ product });
    await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [fixture] });
    // A step naming a script that exists nowhere is refused at creation; one only in Swahili
    // passes and finds nothing for this Indonesian debtor (id-ID, id, en) at send time.
    const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "no script",
      strategy: { steps: [{ id: "call", kind: "contact", channel: "voice", template: "no-such-script" }] },
      templates: [{ name: "no-such-script", channel: "voice", locale: "sw", body: "Habari {{firstName}}" }],
      segment: { products: [product] },
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.body.id}/launch`);
    const attempt = await eventually(
      async () => (await stack.db.contactAttempt.findFirst({ where: { enrolment: { campaignId: campaign.body.id }, status: "failed" } })) ?? undefined,
      "the failed attempt",
    );
    expect(attempt).toMatchObject({ errorCode: "voice-template-error", vendorId: null });
    const account = await stack.db.account.findUniqueOrThrow({ where: { externalId: fixture.externalId } });
    expect(sandbox.calls().filter((c) => c.to === account.phone)).toHaveLength(0);
  });
});

describe("voice webhooks refuse what Twilio did not sign", () => {
  const post = async (path: string, params: Record<string, string>, signature?: string) =>
    fetch(`${stack.apiUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...(signature ? { "x-twilio-signature": signature } : {}) },
      body: new URLSearchParams(params).toString(),
    });
  const callSid = () => `CA${randomBytes(16).toString("hex")}`;

  it("refuses a forged call status with 403 and stores nothing", async () => {
    const params = { CallSid: callSid(), CallStatus: "completed", AccountSid: accountSid, AnsweredBy: "human" };
    const path = "/v1/webhooks/twilio/voice/status";
    const forged = twilio.getExpectedTwilioSignature("not-the-token", `${stack.config.publicBaseUrl}${path}`, params);
    expect((await post(path, params, forged)).status).toBe(403);
    expect((await post(path, params)).status).toBe(403);
    expect(await stack.db.callback.count({ where: { eventId: { startsWith: params.CallSid } } })).toBe(0);
  });

  it("refuses a forged TwiML request with 403 and stores nothing", async () => {
    const params = { CallSid: callSid(), AccountSid: accountSid, Digits: "2" };
    const path = `/v1/webhooks/twilio/voice/attempts/${randomUUID()}/menu`;
    const forged = twilio.getExpectedTwilioSignature("not-the-token", `${stack.config.publicBaseUrl}${path}`, params);
    const response = await post(path, params, forged);
    expect(response.status).toBe(403);
    expect(await stack.db.callback.count({ where: { eventId: { startsWith: params.CallSid } } })).toBe(0);
  });

  it("stores a signed call status once and hangs up on a call that is no attempt's", async () => {
    const params = { CallSid: callSid(), CallStatus: "ringing", AccountSid: accountSid };
    const path = "/v1/webhooks/twilio/voice/status";
    const signature = twilio.getExpectedTwilioSignature(authToken, `${stack.config.publicBaseUrl}${path}`, params);
    expect((await post(path, params, signature)).status).toBe(204);
    expect((await post(path, params, signature)).status).toBe(204);
    expect(await stack.db.callback.count({ where: { eventId: `${params.CallSid}:ringing` } })).toBe(1);

    const twimlPath = `/v1/webhooks/twilio/voice/attempts/${randomUUID()}`;
    const twimlParams = { CallSid: params.CallSid, AccountSid: accountSid, AnsweredBy: "human" };
    const response = await post(twimlPath, twimlParams, twilio.getExpectedTwilioSignature(authToken, `${stack.config.publicBaseUrl}${twimlPath}`, twimlParams));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  });
});

describe("voice webhooks refuse malformed fields with 400 naming them, before storing anything", () => {
  const statusPath = "/v1/webhooks/twilio/voice/status";
  const callStatus = (extra: Record<string, string>) => ({
    CallSid: newCallSid(),
    CallStatus: "completed",
    AccountSid: accountSid,
    AnsweredBy: "human",
    ...extra,
  });

  it.each([
    ["CallStatus", "8,000 characters", { CallStatus: "x".repeat(8_000) }],
    ["CallStatus", "33 letters", { CallStatus: "x".repeat(33) }],
    ["AnsweredBy", "8,000 characters", { AnsweredBy: "m".repeat(8_000) }],
    ["AccountSid", "8,000 characters", { AccountSid: "A".repeat(8_000) }],
    ["CallDuration", "999999999999", { CallDuration: "999999999999" }],
    ["CallDuration", "1e12", { CallDuration: "1e12" }],
    ["CallDuration", "abc", { CallDuration: "abc" }],
    ["CallDuration", "-1", { CallDuration: "-1" }],
    ["CallDuration", "1.5", { CallDuration: "1.5" }],
    ["CallDuration", "86401 (over a day)", { CallDuration: "86401" }],
  ])("a call status with %s of %s", async (field, _what, extra) => {
    const params = callStatus(extra);
    const response = await signedPost(statusPath, params);
    expect(response.status).toBe(400);
    expect(response.contentType).toContain("application/problem+json");
    expect(JSON.parse(response.body).errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect(await stack.db.callback.count({ where: { eventId: { startsWith: params.CallSid } } })).toBe(0);
  });

  it.each([
    ["query", "an 8,000-character query on /menu", "/menu?x=" + "q".repeat(8_000), {}],
    ["query", "a query /menu never carries", "/menu?tries=1", {}],
    ["query.tries", "tries=abc", "/promise-date?tries=abc", {}],
    ["query.tries", "tries=9", "/promise-date?tries=9", {}],
    ["query.date", "date=2026-02-30", "/promise-confirm?date=2026-02-30", { Digits: "1" }],
    ["query.date", "no date", "/promise-confirm", { Digits: "1" }],
    ["Digits", "65 digits", "/menu", { Digits: "1".repeat(65) }],
    ["AnsweredBy", "8,000 characters", "", { AnsweredBy: "h".repeat(8_000) }],
  ])("a TwiML request with a bad %s: %s", async (field, _what, stage, extra: Record<string, string>) => {
    const params = { CallSid: newCallSid(), AccountSid: accountSid, Digits: "2", ...extra };
    const response = await signedPost(`/v1/webhooks/twilio/voice/attempts/${randomUUID()}${stage}`, params);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect(await stack.db.callback.count({ where: { eventId: { startsWith: params.CallSid } } })).toBe(0);
  });
});

describe("call status billing", () => {
  const completed = (sid: string, seconds: string) => ({
    CallSid: sid,
    CallStatus: "completed",
    AccountSid: accountSid,
    AnsweredBy: "human",
    CallDuration: seconds,
  });

  it.each([
    ["0", 0],
    ["30", 1],
    ["61", 2],
    ["86400", 1440],
  ])("bills a call completed after %s s as %i started minutes", async (seconds, minutes) => {
    const sid = newCallSid();
    const attempt = await seedAttempt(stack.db, { vendorId: sid, channel: "voice", status: "sent" });
    expect((await signedPost("/v1/webhooks/twilio/voice/status", completed(sid, seconds))).status).toBe(204);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "delivered", units: minutes });
  });

  it("owes the call's outcome signal on the stored callback, so the sweeper tells the workflow should Temporal not take it now", async () => {
    const sid = newCallSid();
    const attempt = await seedAttempt(stack.db, { vendorId: sid, channel: "voice", status: "sent" });
    expect((await signedPost("/v1/webhooks/twilio/voice/status", completed(sid, "42"))).status).toBe(204);
    const stored = await stack.db.callback.findUniqueOrThrow({ where: { vendor_eventId: { vendor: "twilio", eventId: `${sid}:completed` } } });
    expect(stored.signal).toMatchObject({ attemptId: attempt.id, status: "delivered", outcome: "delivered", workflowId: expect.stringMatching(/^wf-/) });
    // Its workflow does not exist: Temporal says so, and the signal counts as done.
    await eventually(async () => {
      const row = await stack.db.callback.findUniqueOrThrow({ where: { id: stored.id } });
      return row.signalledAt ?? undefined;
    }, "the owed signal marked sent");
  });

  // Before, the move and the owed signal were two statements: a failure between them left the
  // attempt delivered, the callback applied and its journey never told.
  it("a call status whose owed signal cannot be recorded moves nothing; the sweep applies it later and owes the signal", async () => {
    const sid = newCallSid();
    const attempt = await seedAttempt(stack.db, { vendorId: sid, channel: "voice", status: "sent" });
    const fn = `refuse_signal_${sid.toLowerCase()}`;
    await stack.db.$executeRawUnsafe(`
      CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $f$
      BEGIN
        IF NEW.signal IS NOT NULL AND NEW.payload ->> 'CallSid' = '${sid}' THEN RAISE EXCEPTION 'the disk is full'; END IF;
        RETURN NEW;
      END $f$`);
    await stack.db.$executeRawUnsafe(`CREATE TRIGGER ${fn} BEFORE UPDATE ON callbacks FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
    try {
      expect((await signedPost("/v1/webhooks/twilio/voice/status", completed(sid, "42"))).status).toBeGreaterThanOrEqual(500);
    } finally {
      await stack.db.$executeRawUnsafe(`DROP TRIGGER ${fn} ON callbacks`);
      await stack.db.$executeRawUnsafe(`DROP FUNCTION ${fn}()`);
    }
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "sent", units: null });
    const stored = await stack.db.callback.findUniqueOrThrow({ where: { vendor_eventId: { vendor: "twilio", eventId: `${sid}:completed` } } });
    expect(stored).toMatchObject({ appliedAt: null, signal: null });

    await stack.db.callback.update({ where: { id: stored.id }, data: { receivedAt: new Date(Date.now() - 60_000) } });
    const { createOutcomeSignaller } = await import("../api/outcome-signals.ts");
    await createOutcomeSignaller({ db: stack.db, temporal: stack.temporal, logger: createLogger("warn") }).sweep();
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "delivered", units: 1 });
    const swept = await stack.db.callback.findUniqueOrThrow({ where: { id: stored.id } });
    expect(swept.appliedAt).not.toBeNull();
    expect(swept.signal).toMatchObject({ attemptId: attempt.id, status: "delivered", outcome: "delivered" });
  });

  it("tells the journeys of an IVR promise they missed during the call on the next sweep, and only of promises still open", async () => {
    const { tellUntoldCallPromises } = await import("../api/webhooks/call-promises.ts");
    const missed = async (status: string) => {
      const sid = newCallSid();
      const attempt = await seedAttempt(stack.db, { vendorId: sid, channel: "voice", status: "delivered" });
      await stack.db.paymentPromise.create({
        data: {
          accountId: attempt.accountId,
          attemptId: attempt.id,
          amountMinor: 1000n,
          currency: "INR",
          dueDate: new Date("2030-01-01"),
          source: "ivr",
          status,
        },
      });
      return stack.db.callback.create({
        data: {
          vendor: "twilio",
          eventId: `${sid}:promise`,
          kind: "promise",
          payload: { CallSid: sid },
          appliedAt: new Date(),
          receivedAt: new Date(Date.now() - 60_000),
        },
      });
    };
    const [open, kept] = [await missed("open"), await missed("kept")];
    expect(await tellUntoldCallPromises({ db: stack.db, temporal: stack.temporal, logger: createLogger("warn") })).toBeGreaterThanOrEqual(1);
    expect((await stack.db.callback.findUniqueOrThrow({ where: { id: open.id } })).signalledAt).not.toBeNull();
    expect((await stack.db.callback.findUniqueOrThrow({ where: { id: kept.id } })).signalledAt).toBeNull();
  });

  it.each(["failed", "canceled"])("a late completion of a call already %s changes nothing on the attempt", async (status) => {
    const sid = newCallSid();
    const attempt = await seedAttempt(stack.db, { vendorId: sid, channel: "voice", status });
    expect((await signedPost("/v1/webhooks/twilio/voice/status", completed(sid, "30"))).status).toBe(204);
    const after = await attemptRow(attempt.id);
    expect(after).toMatchObject({ status, units: null });
    expect(after.updatedAt).toEqual(attempt.updatedAt);
    // The event is kept all the same, and applied: it has nothing left to do.
    const stored = await stack.db.callback.findUniqueOrThrow({ where: { vendor_eventId: { vendor: "twilio", eventId: `${sid}:completed` } } });
    expect(stored.appliedAt).not.toBeNull();
  });
});

describe("IVR scripts", () => {
  it.each(["en", "id", "hi"])("the shipped %s voicemail renders from the limited-content fields alone", async (locale) => {
    const { body: source } = await resolveTemplate("voicemail", "voice", locale, []);
    const text = renderTemplate(source, { agentName: "Maya", creditor: "Bank Contoh", callbackNumber: "6 2 2 1", locale } as unknown as TemplateContext);
    expect(text).toContain("Maya");
    expect(text).toContain("Bank Contoh");
    expect(text).toContain("6 2 2 1");
    expect(text.toLowerCase()).not.toMatch(/debt|collect|utang|tagih|ऋण|वसूली/);
  });

  it("a voicemail script that names the debt fails to render instead of being left on a machine", () => {
    expect(() =>
      renderTemplate("Call {{creditor}} about {{money amountDue currency}}", { creditor: "X", locale: "en" } as unknown as TemplateContext),
    ).toThrow();
  });

  it.each([
    ["25122026", "2026-12-25"],
    ["01012027", "2027-01-01"],
    ["29022028", "2028-02-29"],
    ["29022027", undefined],
    ["31042027", undefined],
    ["2512202", undefined],
    ["", undefined],
    ["2512202*", undefined],
  ])("keypad date %j is %s", (digits, iso) => {
    expect(parseKeypadDate(digits)).toBe(iso);
  });

  it("accepts promise dates from the debtor's today up to 60 days ahead", () => {
    expect(promiseWindow("Asia/Jakarta", new Date("2026-11-23T20:00:00Z"))).toEqual({ today: "2026-11-24", latest: "2027-01-23" });
  });

  it.each([
    ["id-ID", { textLocale: "id-ID", formatLocale: "id-ID", language: "id-ID" }],
    ["en-IN", { textLocale: "en-IN", formatLocale: "en-IN", language: "en-IN" }],
    ["hi", { textLocale: "hi", formatLocale: "hi", language: "hi-IN" }],
    ["sw-KE", { textLocale: "en", formatLocale: "en-KE", language: "en-US" }],
    ["en-KE", { textLocale: "en-KE", formatLocale: "en-KE", language: "en-US" }],
  ])("speaks to a %s debtor in %o", (locale, speech) => {
    expect(speechFor(locale)).toEqual(speech);
  });
});
