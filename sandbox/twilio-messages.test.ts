import twilio from "twilio";
import { afterEach, describe, expect, it } from "vitest";
import { verifyTagihSignature } from "../vendors/tagih-signature.ts";
import { createTwilioClient, rebaseTwilioUri } from "../vendors/twilio.ts";
import { startVendorSandbox } from "./index.ts";
import { startReceiver } from "./test-receiver.ts";
import type { Receiver, ReceivedRequest } from "./test-receiver.ts";
import type { SandboxOptions, VendorSandbox } from "./index.ts";

const accountSid = "AC" + "a1".repeat(16);
const authToken = "sandbox-auth-token";
const from = "+15017122661";
const to = "+6281234567890";

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

async function setup(options: Partial<SandboxOptions> = {}): Promise<{ sandbox: VendorSandbox; receiver: Receiver }> {
  const receiver = await startReceiver();
  const sandbox = await startVendorSandbox({ twilio: { accountSid, authToken }, seed: 1, ...options });
  cleanup.push(
    () => receiver.close(),
    () => sandbox.close(),
  );
  return { sandbox, receiver };
}

const client = (sandbox: VendorSandbox, token = authToken) => createTwilioClient({ accountSid, authToken: token, apiBaseUrl: sandbox.url });
const statuses = (requests: ReceivedRequest[]) => requests.map((r) => r.form().MessageStatus);

describe("Twilio messages", () => {
  it("creates an SMS with the real SDK and posts signed status callbacks", async () => {
    const { sandbox, receiver } = await setup({ outcomes: { sms: { delivered: 1 } } });
    const statusCallback = `${receiver.url}/webhooks/twilio/status?attempt=att_1`;
    const message = await client(sandbox).messages.create({
      to,
      from,
      body: "Tagihan Anda jatuh tempo",
      statusCallback,
    });

    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.status).toBe("queued");
    expect(message.accountSid).toBe(accountSid);
    expect(message.to).toBe(to);
    expect(message.direction).toBe("outbound-api");
    expect(message.numSegments).toBe("1");
    expect(message.price).toBeNull();
    expect(message.errorCode).toBeNull();
    expect(message.dateCreated).toBeInstanceOf(Date);

    await sandbox.idle();
    const callbacks = receiver.on("/webhooks/twilio/status");
    expect(statuses(callbacks)).toEqual(["sent", "delivered"]);
    for (const cb of callbacks) {
      const params = cb.form();
      expect(params).toMatchObject({
        MessageSid: message.sid,
        SmsSid: message.sid,
        AccountSid: accountSid,
        To: to,
        From: from,
        ApiVersion: "2010-04-01",
      });
      expect(params.SmsStatus).toBe(params.MessageStatus);
      expect(cb.headers["content-type"]).toBe("application/x-www-form-urlencoded");
      expect(twilio.validateRequest(authToken, cb.headers["x-twilio-signature"] ?? "", statusCallback, params)).toBe(true);
      const tampered = { ...params, MessageStatus: "failed" };
      expect(twilio.validateRequest(authToken, cb.headers["x-twilio-signature"] ?? "", statusCallback, tampered)).toBe(false);
      expect(twilio.validateRequest("another-token", cb.headers["x-twilio-signature"] ?? "", statusCallback, params)).toBe(false);
    }

    const fetched = await client(sandbox).messages(message.sid).fetch();
    expect(fetched.status).toBe("delivered");
    expect(fetched.price).toMatch(/^-0\.\d+$/);
    expect(sandbox.messages()).toMatchObject([{ sid: message.sid, channel: "sms", to, status: "delivered", outcome: "delivered" }]);
    const overHttp = (await (await fetch(`${sandbox.url}/sandbox/messages`)).json()) as unknown[];
    expect(overHttp).toHaveLength(1);
  });

  it("signs over the public URL while delivering to deliverTo", async () => {
    const receiver = await startReceiver();
    const sandbox = await startVendorSandbox({
      twilio: { accountSid, authToken },
      deliverTo: receiver.url,
      outcomes: { sms: { undelivered: 1 } },
    });
    cleanup.push(
      () => receiver.close(),
      () => sandbox.close(),
    );
    const publicUrl = "https://tagih.example.com/webhooks/twilio/status?attempt=att_2";
    await client(sandbox).messages.create({ to, from, body: "Hi", statusCallback: publicUrl });
    await sandbox.idle();

    const callbacks = receiver.on("/webhooks/twilio/status");
    expect(statuses(callbacks)).toEqual(["sent", "undelivered"]);
    expect(callbacks[0]?.path).toBe("/webhooks/twilio/status?attempt=att_2");
    for (const cb of callbacks) {
      expect(twilio.validateRequest(authToken, cb.headers["x-twilio-signature"] ?? "", publicUrl, cb.form())).toBe(true);
    }
    expect(["30003", "30005", "30006"]).toContain(callbacks[1]?.form().ErrorCode);
    expect(sandbox.callbacks().map((r) => [r.url, r.deliveredTo, r.statusCode])).toEqual([
      [publicUrl, `${receiver.url}/webhooks/twilio/status?attempt=att_2`, 200],
      [publicUrl, `${receiver.url}/webhooks/twilio/status?attempt=att_2`, 200],
    ]);
  });

  it("reports a failed message once, with its error code", async () => {
    const { sandbox, receiver } = await setup({ outcomes: { sms: { failed: 1 } } });
    await client(sandbox).messages.create({ to, from, body: "Hi", statusCallback: `${receiver.url}/s` });
    await sandbox.idle();
    expect(receiver.on("/s").map((r) => [r.form().MessageStatus, r.form().ErrorCode])).toEqual([["failed", "30008"]]);
    expect(sandbox.messages()[0]).toMatchObject({ status: "failed", errorCode: 30008, price: null });
  });

  it("sends WhatsApp template messages and reports read", async () => {
    const { sandbox, receiver } = await setup({ outcomes: { whatsapp: { read: 1 } } });
    const message = await client(sandbox).messages.create({
      to: `whatsapp:${to}`,
      from: `whatsapp:${from}`,
      contentSid: "HX" + "0".repeat(32),
      contentVariables: JSON.stringify({ 1: "Budi", 2: "Rp 1.250.000" }),
      statusCallback: `${receiver.url}/wa`,
    });
    expect(message.sid).toMatch(/^SM/);
    await sandbox.idle();
    const callbacks = receiver.on("/wa");
    expect(statuses(callbacks)).toEqual(["sent", "delivered", "read"]);
    expect(callbacks[0]?.form()).toMatchObject({
      ChannelPrefix: "whatsapp",
      ChannelToAddress: to,
      To: `whatsapp:${to}`,
    });
    expect(sandbox.messages()[0]).toMatchObject({
      channel: "whatsapp",
      contentSid: "HX" + "0".repeat(32),
      status: "read",
    });
  });

  it("rejects bad credentials with a 401 RestException", async () => {
    const { sandbox } = await setup();
    const error = await client(sandbox, "wrong-token")
      .messages.create({ to, from, body: "Hi" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(twilio.RestException);
    expect(error).toMatchObject({ status: 401, code: 20003 });
    expect(sandbox.messages()).toHaveLength(0);
  });

  it("validates To like Twilio", async () => {
    const { sandbox } = await setup();
    const missing = await client(sandbox)
      .messages.create({ to: "", from, body: "Hi" })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(twilio.RestException);
    expect(missing).toMatchObject({
      status: 400,
      code: 21604,
      message: "A 'To' phone number is required.",
      moreInfo: "https://www.twilio.com/docs/errors/21604",
    });

    const invalid = await client(sandbox)
      .messages.create({ to: "0812-3456", from, body: "Hi" })
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 400, code: 21211 });

    const unsubscribed = await client(sandbox)
      .messages.create({ to: "+15005550004", from, body: "Hi" })
      .catch((e: unknown) => e);
    expect(unsubscribed).toMatchObject({ status: 400, code: 21610 });

    const raw = await fetch(`${sandbox.url}/2010-04-01/Accounts/${accountSid}/Messages.json`, {
      method: "POST",
      headers: {
        authorization: "Basic " + Buffer.from(`${accountSid}:${authToken}`).toString("base64"),
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ From: from, Body: "Hi" }).toString(),
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({
      code: 21604,
      message: "A 'To' phone number is required.",
      more_info: "https://www.twilio.com/docs/errors/21604",
      status: 400,
    });
    expect(sandbox.messages()).toHaveLength(0);
  });

  it("draws the same outcomes for the same seed and request order", async () => {
    const outcomes = { sms: { delivered: 5, undelivered: 3, failed: 2 } };
    const run = async (seed: number) => {
      const { sandbox, receiver } = await setup({ seed, outcomes });
      for (let i = 0; i < 12; i++) {
        await client(sandbox).messages.create({ to, from, body: `m${i}`, statusCallback: `${receiver.url}/s/${i}` });
      }
      await sandbox.idle();
      const terminal = Array.from({ length: 12 }, (_, i) => statuses(receiver.on(`/s/${i}`)).at(-1));
      expect(terminal).toEqual(sandbox.messages().map((m) => m.outcome));
      return terminal;
    };
    const first = await run(42);
    expect(await run(42)).toEqual(first);
    expect(await run(43)).not.toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(1);
  });

  it("delivers each callback twice with duplicates: 1", async () => {
    const { sandbox, receiver } = await setup({ duplicates: 1, outcomes: { sms: { delivered: 1 } } });
    await client(sandbox).messages.create({ to, from, body: "Hi", statusCallback: `${receiver.url}/s` });
    await sandbox.idle();
    const callbacks = receiver.on("/s");
    expect(statuses(callbacks)).toEqual(["sent", "sent", "delivered", "delivered"]);
    expect(callbacks[0]?.headers["i-twilio-idempotency-token"]).toBe(callbacks[1]?.headers["i-twilio-idempotency-token"]);
    expect(callbacks[0]?.headers["i-twilio-idempotency-token"]).not.toBe(callbacks[2]?.headers["i-twilio-idempotency-token"]);
    expect(sandbox.callbacks().map((r) => r.duplicate)).toEqual([false, true, false, true]);
  });

  it("shuffles the callbacks of each message with reorder", async () => {
    const { sandbox, receiver } = await setup({ seed: 5, reorder: true, outcomes: { sms: { delivered: 1 } } });
    for (let i = 0; i < 10; i++) {
      await client(sandbox).messages.create({ to, from, body: "Hi", statusCallback: `${receiver.url}/s/${i}` });
    }
    await sandbox.idle();
    const orders = Array.from({ length: 10 }, (_, i) => statuses(receiver.on(`/s/${i}`)).join(">"));
    expect(new Set(orders)).toEqual(new Set(["sent>delivered", "delivered>sent"]));
    expect(sandbox.messages().every((m) => m.status === "delivered")).toBe(true);
  });

  it("waits delayMs before callbacks", async () => {
    const { sandbox, receiver } = await setup({ delayMs: { min: 30, max: 40 }, outcomes: { sms: { delivered: 1 } } });
    const started = Date.now();
    await client(sandbox).messages.create({ to, from, body: "Hi", statusCallback: `${receiver.url}/s` });
    await sandbox.idle();
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    expect(receiver.on("/s")).toHaveLength(2);
  });
});

describe("debtors' replies and payments", () => {
  const payer = { accountId: "5f0c6a3e-8a53-4d7a-9a63-2c7d1f0e9b11", amountMinor: 1001n, currency: "IDR" };
  const paymentsAt = (receiver: Receiver, asked: string[] = []) => ({
    url: `${receiver.url}/webhooks/payments`,
    secret: "gateway-secret",
    payer: async (contact: { vendorId: string }) => (asked.push(contact.vendorId), payer),
  });

  it("replies to a delivered text as Twilio posts an incoming message, signed over the inbound URL", async () => {
    const receiver = await startReceiver();
    const inbound = `${receiver.url}/webhooks/twilio/inbound`;
    const { sandbox } = await setup({ outcomes: { sms: { delivered: 1, reply: 1, replyTexts: ["PTP 25/12"] } }, twilioInboundUrl: inbound });
    cleanup.push(() => receiver.close());
    const message = await client(sandbox).messages.create({ to, from, body: "Tagihan Anda jatuh tempo" });
    await sandbox.idle();
    const [reply, ...more] = receiver.on("/webhooks/twilio/inbound");
    expect(more).toHaveLength(0);
    const params = reply!.form();
    expect(params).toMatchObject({ From: to, To: from, Body: "PTP 25/12", AccountSid: accountSid, SmsStatus: "received", NumMedia: "0" });
    expect(params.MessageSid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(params.MessageSid).not.toBe(message.sid);
    expect(twilio.validateRequest(authToken, reply!.headers["x-twilio-signature"] ?? "", inbound, params)).toBe(true);
    expect(sandbox.messages()[0]).toMatchObject({ sid: message.sid, reply: "PTP 25/12" });
  });

  it("never replies to a text that was not delivered, nor when replies are off", async () => {
    const receiver = await startReceiver();
    const inbound = `${receiver.url}/webhooks/twilio/inbound`;
    const { sandbox } = await setup({ outcomes: { sms: { undelivered: 1, reply: 1 } }, twilioInboundUrl: inbound });
    cleanup.push(() => receiver.close());
    await client(sandbox).messages.create({ to, from, body: "x" });
    await sandbox.idle();
    expect(receiver.on("/webhooks/twilio/inbound")).toHaveLength(0);
    sandbox.setOutcomes({ sms: { delivered: 1 } });
    await client(sandbox).messages.create({ to, from, body: "y" });
    await sandbox.idle();
    expect(receiver.on("/webhooks/twilio/inbound")).toHaveLength(0);
    expect(sandbox.messages().map((m) => m.reply)).toEqual([null, null]);
  });

  it("pays through the gateway after a delivered text: signed JSON with a unique reference, half the balance when the mix says so", async () => {
    const receiver = await startReceiver();
    const asked: string[] = [];
    const { sandbox } = await setup({ outcomes: { sms: { delivered: 1 }, payments: { after: 1, full: 0 } }, payments: paymentsAt(receiver, asked) });
    cleanup.push(() => receiver.close());
    const first = await client(sandbox).messages.create({ to, from, body: "one" });
    const second = await client(sandbox).messages.create({ to, from, body: "two" });
    await sandbox.idle();
    expect(asked.sort()).toEqual([first.sid, second.sid].sort());
    const paid = receiver.on("/webhooks/payments");
    expect(paid.map((p) => p.json())).toEqual([
      { reference: expect.stringMatching(/^SBX-/), accountId: payer.accountId, amountMinor: "500", currency: "IDR", paidAt: expect.any(String) },
      { reference: expect.stringMatching(/^SBX-/), accountId: payer.accountId, amountMinor: "500", currency: "IDR", paidAt: expect.any(String) },
    ]);
    expect(new Set(paid.map((p) => (p.json() as { reference: string }).reference)).size).toBe(2);
    for (const p of paid) expect(verifyTagihSignature("gateway-secret", p.headers["x-tagih-signature"], p.body).ok).toBe(true);
  });

  it("pays nothing for a text that failed, or when the mix has no payments", async () => {
    const receiver = await startReceiver();
    const asked: string[] = [];
    const { sandbox } = await setup({ outcomes: { sms: { failed: 1 }, payments: { after: 1 } }, payments: paymentsAt(receiver, asked) });
    cleanup.push(() => receiver.close());
    await client(sandbox).messages.create({ to, from, body: "x" });
    sandbox.setOutcomes({ sms: { delivered: 1 }, payments: { after: 0 } });
    await client(sandbox).messages.create({ to, from, body: "y" });
    await sandbox.idle();
    expect(asked).toEqual([]);
    expect(receiver.on("/webhooks/payments")).toHaveLength(0);
  });
});

describe("sandbox logs", () => {
  it("never hold a full phone number", async () => {
    const lines: string[] = [];
    const logger = {
      info: (obj: object, msg?: string) => lines.push(JSON.stringify([obj, msg])),
      warn: (obj: object, msg?: string) => lines.push(JSON.stringify([obj, msg])),
    };
    const { sandbox } = await setup({ logger });
    await client(sandbox).messages.create({ to, from, body: "Hi", statusCallback: "http://127.0.0.1:9/unreachable" });
    await client(sandbox).calls.create({ to, from, url: "http://127.0.0.1:9/unreachable" });
    await sandbox.idle();
    expect(lines.some((line) => line.includes("+62*******7890"))).toBe(true);
    expect(lines.some((line) => line.includes("callback failed"))).toBe(true);
    expect(lines.join("\n")).not.toContain("81234567890");
  });

  it("rejects impossible options", async () => {
    await expect(startVendorSandbox({ twilio: { accountSid, authToken }, delayMs: { min: 5, max: 1 } })).rejects.toThrow(/delayMs/);
    await expect(startVendorSandbox({ twilio: { accountSid, authToken }, outcomes: { sms: {} } })).rejects.toThrow(/sms/);
  });
});

describe("vendors/twilio", () => {
  it("rewrites only Twilio hosts, keeping path and query", () => {
    const base = "http://127.0.0.1:4010/";
    expect(rebaseTwilioUri("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=5", base)).toBe(
      "http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Messages.json?PageSize=5",
    );
    expect(rebaseTwilioUri("https://api.sydney.us1.twilio.com/2010-04-01/Calls.json", base)).toBe("http://127.0.0.1:4010/2010-04-01/Calls.json");
    expect(rebaseTwilioUri("https://api.twilio.com.evil.example/x", base)).toBe("https://api.twilio.com.evil.example/x");
    expect(rebaseTwilioUri("https://example.com/x", base)).toBe("https://example.com/x");
  });
});
