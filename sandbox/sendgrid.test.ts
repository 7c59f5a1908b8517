import { EventWebhook, EventWebhookHeader } from "@sendgrid/eventwebhook";
import { afterEach, describe, expect, it } from "vitest";
import { createSendgridClient } from "../vendors/sendgrid.ts";
import { generateSendgridKeyPair, startVendorSandbox } from "./index.ts";
import { startReceiver } from "./test-receiver.ts";
import type { Receiver, ReceivedRequest, Reply } from "./test-receiver.ts";
import type { SandboxOptions, VendorSandbox } from "./index.ts";

const keys = generateSendgridKeyPair();
const apiKey = "SG.sandbox-key";
const from = { email: "tagihan@lender.example", name: "Lender" };

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

async function setup(
  options: Partial<SandboxOptions> = {},
  respond?: (req: ReceivedRequest) => Reply | undefined,
): Promise<{ sandbox: VendorSandbox; receiver: Receiver; eventsUrl: string }> {
  const receiver = await startReceiver(respond);
  const eventsUrl = `${receiver.url}/webhooks/sendgrid`;
  const sandbox = await startVendorSandbox({
    twilio: { accountSid: "AC" + "0".repeat(32), authToken: "t" },
    sendgrid: { privateKeyPem: keys.privateKeyPem },
    sendgridEventsUrl: eventsUrl,
    seed: 9,
    ...options,
  });
  cleanup.push(
    () => receiver.close(),
    () => sandbox.close(),
  );
  return { sandbox, receiver, eventsUrl };
}

const mailer = (sandbox: VendorSandbox, key = apiKey) => createSendgridClient({ apiKey: key, apiBaseUrl: sandbox.url });

function verified(req: ReceivedRequest, publicKeyBase64 = keys.publicKeyBase64): boolean {
  const webhook = new EventWebhook();
  const signature = req.headers[EventWebhookHeader.SIGNATURE().toLowerCase()] ?? "";
  const timestamp = req.headers[EventWebhookHeader.TIMESTAMP().toLowerCase()] ?? "";
  return webhook.verifySignature(webhook.convertPublicKeyToECDSA(publicKeyBase64), req.body, signature, timestamp);
}

type Event = Record<string, unknown> & { event: string; email: string };
const eventsOf = (receiver: Receiver): Event[] => receiver.on("/webhooks/sendgrid").flatMap((r) => r.json() as Event[]);

describe("SendGrid mail send", () => {
  it("accepts a send with 202 + X-Message-Id and posts signed events carrying custom_args", async () => {
    const { sandbox, receiver } = await setup({ outcomes: { email: { delivered: 1, open: 1, click: 1 } } });
    const [response] = await mailer(sandbox).send({
      to: "budi@debtor.example",
      from,
      subject: "Tagihan Anda",
      html: '<p>Bayar di <a href="https://pay.lender.example/p/123">sini</a></p>',
      customArgs: { attempt_id: "att_42", campaign_id: "cmp_7" },
      categories: ["collections"],
    });
    expect(response.statusCode).toBe(202);
    const messageId = response.headers["x-message-id"] as string;
    expect(messageId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    await sandbox.idle();
    const posts = receiver.on("/webhooks/sendgrid");
    expect(posts.length).toBeGreaterThan(0);
    for (const post of posts) {
      expect(post.headers["content-type"]).toBe("application/json");
      expect(verified(post)).toBe(true);
      expect(verified({ ...post, body: post.body.replace("att_42", "att_43") })).toBe(false);
      expect(verified(post, generateSendgridKeyPair().publicKeyBase64)).toBe(false);
    }
    const events = eventsOf(receiver);
    expect(events.map((e) => e.event)).toEqual(["processed", "delivered", "open", "click"]);
    for (const e of events) {
      expect(e).toMatchObject({
        email: "budi@debtor.example",
        attempt_id: "att_42",
        campaign_id: "cmp_7",
        category: "collections",
      });
      expect(e.sg_message_id).toMatch(new RegExp(`^${messageId}\\.`));
      expect(e.sg_event_id).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(typeof e.timestamp).toBe("number");
    }
    expect(new Set(events.map((e) => e.sg_event_id)).size).toBe(events.length);
    expect(events[3]).toMatchObject({ url: "https://pay.lender.example/p/123" });
    expect(sandbox.emails()[0]).toMatchObject({
      messageId,
      customArgs: { attempt_id: "att_42", campaign_id: "cmp_7" },
      recipients: [{ email: "budi@debtor.example", outcome: "delivered", events: ["processed", "delivered", "open", "click"] }],
    });
  });

  it("posts one batch per stage across recipients, with personalization custom_args", async () => {
    const { sandbox, receiver } = await setup({ outcomes: { email: { bounce: 1 } } });
    await mailer(sandbox).send({
      from,
      subject: "Tagihan",
      text: "Halo",
      customArgs: { campaign_id: "cmp_7" },
      personalizations: [
        { to: "a@debtor.example", customArgs: { attempt_id: "att_a" } },
        { to: "b@debtor.example", customArgs: { attempt_id: "att_b" } },
      ],
    });
    await sandbox.idle();
    const batches = receiver.on("/webhooks/sendgrid").map((r) => (r.json() as Event[]).map((e) => `${e.email}:${e.event}:${e.attempt_id}`));
    expect(batches).toEqual([
      ["a@debtor.example:processed:att_a", "b@debtor.example:processed:att_b"],
      ["a@debtor.example:bounce:att_a", "b@debtor.example:bounce:att_b"],
    ]);
    expect(eventsOf(receiver)[2]).toMatchObject({
      reason: expect.stringContaining("550"),
      status: "5.1.1",
      campaign_id: "cmp_7",
    });
  });

  it("validates the v3 body like SendGrid", async () => {
    const { sandbox } = await setup();
    const error = await mailer(sandbox)
      .send({ to: "budi@debtor.example", from, text: "no subject" })
      .catch((e: unknown) => e as { code: number; response: { body: unknown } });
    expect(error).toMatchObject({ code: 400 });
    expect((error as { response: { body: unknown } }).response.body).toEqual({
      errors: [{ message: expect.stringContaining("The subject is required"), field: "subject", help: null }],
    });

    const raw = await fetch(`${sandbox.url}/v3/mail/send`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        personalizations: [{ to: [{ email: "not-an-email" }] }],
        from: {},
        subject: "s",
        content: [],
      }),
    });
    expect(raw.status).toBe(400);
    const body = (await raw.json()) as { errors: Array<{ field: string }> };
    expect(body.errors.map((e) => e.field)).toEqual(["personalizations.0.to.0.email", "from.email", "content"]);
    expect(sandbox.emails()).toHaveLength(0);
  });

  it("rejects a missing API key with 401", async () => {
    const { sandbox } = await setup();
    const response = await fetch(`${sandbox.url}/v3/mail/send`, { method: "POST", body: "{}" });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      errors: [{ field: null, message: "The provided authorization grant is invalid, expired, or revoked", help: null }],
    });
  });

  it("accepts sandbox_mode sends with 200 and delivers nothing", async () => {
    const { sandbox, receiver } = await setup();
    const [response] = await mailer(sandbox).send({
      to: "budi@debtor.example",
      from,
      subject: "s",
      text: "t",
      mailSettings: { sandboxMode: { enable: true } },
    });
    expect(response.statusCode).toBe(200);
    await sandbox.idle();
    expect(receiver.requests).toHaveLength(0);
    expect(sandbox.emails()[0]?.sandboxMode).toBe(true);
  });

  it("retries a failed event post, re-signing it", async () => {
    let calls = 0;
    const { sandbox, receiver } = await setup({ outcomes: { email: { dropped: 1 } } }, () => (++calls === 1 ? { status: 503 } : undefined));
    await mailer(sandbox).send({ to: "budi@debtor.example", from, subject: "s", text: "t" });
    await sandbox.idle();
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests[0]?.body).toBe(receiver.requests[1]?.body);
    expect(receiver.requests.every((r) => verified(r))).toBe(true);
    expect(sandbox.callbacks().map((r) => [r.attempt, r.statusCode])).toEqual([
      [1, 503],
      [2, 200],
    ]);
    expect(eventsOf(receiver).map((e) => e.event)).toEqual(["dropped", "dropped"]);
  });

  it("duplicates and reorders event batches", async () => {
    const { sandbox, receiver } = await setup({
      duplicates: 1,
      reorder: true,
      seed: 11,
      outcomes: { email: { delivered: 1, open: 1 } },
    });
    for (let i = 0; i < 6; i++) await mailer(sandbox).send({ to: `d${i}@debtor.example`, from, subject: "s", text: "t" });
    await sandbox.idle();
    const perEmail = Array.from({ length: 6 }, (_, i) =>
      eventsOf(receiver)
        .filter((e) => e.email === `d${i}@debtor.example`)
        .map((e) => e.event),
    );
    for (const events of perEmail) expect([...events].sort()).toEqual(["delivered", "delivered", "open", "open", "processed", "processed"]);
    expect(perEmail.some((events) => events[0] !== "processed")).toBe(true);
  });
});

describe("debtors paying after an email", () => {
  it("pays through the gateway after an email delivered, asking who pays by its X-Message-Id, never after a bounce", async () => {
    const asked: string[] = [];
    const receiver = await startReceiver();
    cleanup.push(() => receiver.close());
    const paying = await startVendorSandbox({
      twilio: { accountSid: "AC" + "0".repeat(32), authToken: "t" },
      sendgrid: { privateKeyPem: keys.privateKeyPem },
      sendgridEventsUrl: `${receiver.url}/webhooks/sendgrid`,
      outcomes: { email: { delivered: 1 }, payments: { after: 1 } },
      payments: {
        url: `${receiver.url}/webhooks/payments`,
        secret: "gateway-secret",
        payer: async ({ vendorId }) => (asked.push(vendorId), { accountId: "acct-2", amountMinor: 9900n, currency: "KES" }),
      },
    });
    cleanup.push(() => paying.close());
    const [delivered] = await mailer(paying).send({ to: "budi@debtor.example", from, subject: "Tagihan", text: "Bayar" });
    await paying.idle();
    paying.setOutcomes({ email: { bounce: 1 } });
    await mailer(paying).send({ to: "ani@debtor.example", from, subject: "Tagihan", text: "Bayar" });
    await paying.idle();
    expect(asked).toEqual([delivered.headers["x-message-id"]]);
    expect(receiver.on("/webhooks/payments").map((p) => p.json())).toEqual([
      { reference: expect.stringMatching(/^SBX-/), accountId: "acct-2", amountMinor: "9900", currency: "KES", paidAt: expect.any(String) },
    ]);
  });
});
