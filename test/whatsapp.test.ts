import { randomBytes, randomUUID } from "node:crypto";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VendorSandbox } from "../sandbox/index.ts";
import type { startTestStack } from "./stack.ts";
import { accountFixture, api, eventually, startTestStackWithSandbox } from "./stack.ts";
import { uniqueMobile, zoneAtLocalHour } from "./zones.ts";

// Our own vendor sandbox with credentials we know, so the test can sign the debtor's
// inbound WhatsApp message as Twilio does.
let stack: Awaited<ReturnType<typeof startTestStack>>;
let sandbox: VendorSandbox;
const accountSid = `AC${randomBytes(16).toString("hex")}`;
const authToken = randomBytes(16).toString("hex");
const CONTENT_SID = `HX${"ab12".repeat(8)}`;
const WHATSAPP_FROM = "+14155238886";

beforeAll(async () => {
  ({ stack, sandbox } = await startTestStackWithSandbox(
    { accountSid, authToken },
    { seed: 12, outcomes: { sms: { delivered: 1 }, whatsapp: { read: 1 } } },
    { TWILIO_WHATSAPP_FROM: WHATSAPP_FROM, TAGIH_CREDITOR_NAME: "Bank Contoh" },
  ));
});
afterAll(async () => {
  await stack?.stop();
  await sandbox?.close();
});

/** The debtor writes to us on WhatsApp (signed as Twilio signs it). */
async function debtorWrites(number: string, body: string) {
  const sid = `SM${randomBytes(16).toString("hex")}`;
  const params = {
    MessageSid: sid,
    SmsSid: sid,
    AccountSid: accountSid,
    From: `whatsapp:${number}`,
    To: `whatsapp:${WHATSAPP_FROM}`,
    Body: body,
    NumMedia: "0",
  };
  const url = `${stack.config.publicBaseUrl}/v1/webhooks/twilio/inbound`;
  const response = await fetch(`${stack.apiUrl}/v1/webhooks/twilio/inbound`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilio.getExpectedTwilioSignature(authToken, url, params) },
    body: new URLSearchParams(params).toString(),
  });
  expect(response.status).toBe(200);
}

/** One account of a product of its own, a WhatsApp campaign over it, launched; returns the finished journey's attempts. */
async function whatsappCampaign(options: {
  account?: Record<string, unknown>;
  contentSid?: boolean;
  fallbacks?: string[];
  before?: (phone: string) => Promise<void>;
}) {
  const product = `loan-${randomUUID()}`;
  const fixture = accountFixture({ product, consent: { whatsapp: true }, ...options.account });
  expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [fixture] })).status).toBe(200);
  const account = await stack.db.account.findUniqueOrThrow({ where: { externalId: fixture.externalId } });
  await options.before?.(account.whatsapp ?? account.phone!);
  const templates = options.contentSid
    ? [{ name: "reminder", channel: "whatsapp", locale: "id", body: "Halo {{firstName}}, tagihan {{money amountDue currency}}.", contentSid: CONTENT_SID }]
    : [];
  const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", {
    name: `whatsapp ${randomUUID()}`,
    strategy: { steps: [{ id: "wa", kind: "contact", channel: "whatsapp", template: "reminder", fallbacks: options.fallbacks ?? [] }] },
    segment: { products: [product] },
    templates,
  });
  expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
  const launched = await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.body.id}/launch`);
  expect(launched.status).toBe(202);
  await eventually(async () => {
    const summary = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaign.body.id}/summary`);
    return summary.body.finished === 1 ? true : undefined;
  }, "the journey to finish");
  await sandbox.idle();
  const attempts = await stack.db.contactAttempt.findMany({ where: { enrolment: { campaignId: campaign.body.id } }, orderBy: { createdAt: "asc" } });
  const latest = await stack.db.account.findUniqueOrThrow({ where: { id: account.id } });
  return {
    account: latest,
    attempts,
    messages: sandbox.messages().filter((m) => m.to.endsWith(account.whatsapp ?? account.phone!)),
    warnings: launched.body.warnings as string[] | undefined,
  };
}

describe("WhatsApp through Twilio", () => {
  it("outside the 24-hour window sends the campaign's approved template with its variables", async () => {
    const { account, attempts, messages, warnings } = await whatsappCampaign({ contentSid: true });
    expect(warnings).toBeUndefined();
    expect(account.lastWhatsappInboundAt).toBeNull();
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message).toMatchObject({
      channel: "whatsapp",
      to: `whatsapp:${account.phone}`,
      from: `whatsapp:${WHATSAPP_FROM}`,
      contentSid: CONTENT_SID,
      body: "",
    });
    const variables = JSON.parse(message!.contentVariables!);
    expect({ ...variables, "2": variables["2"].replace(/\u00a0/g, " ") }).toEqual({ "1": "Budi", "2": "Rp 1.500.000", "3": "25 Desember 2026" });
    // Status callbacks reuse the SMS webhook; `read` ranks above `delivered`.
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ channel: "whatsapp", vendorId: message!.sid, status: "read" });
  });

  it("inside the window sends the rendered template as free-form text", async () => {
    const { account, attempts, messages } = await whatsappCampaign({
      contentSid: true,
      before: (number) => debtorWrites(number, "Halo, berapa tagihan saya?"),
    });
    expect(account.lastWhatsappInboundAt).not.toBeNull();
    expect(messages).toHaveLength(1);
    expect(messages[0]!.contentSid).toBeNull();
    expect(messages[0]!.body.replace(/\u00a0/g, " ")).toBe("Halo Budi, tagihan Rp 1.500.000. Balas STOP untuk berhenti.");
    expect(attempts[0]).toMatchObject({ status: "read" });
  });

  it("inside the window without a campaign template sends the shipped WhatsApp text in the debtor's language", async () => {
    const { messages } = await whatsappCampaign({ before: (number) => debtorWrites(number, "halo") });
    expect(messages).toHaveLength(1);
    expect(messages[0]!.body.replace(/\u00a0/g, " ")).toMatch(
      /^Halo Budi, ini Bank Contoh\. Tagihan Anda sebesar Rp 1\.500\.000 jatuh tempo pada 25 Desember 2026\..*Balas STOP untuk berhenti\.$/,
    );
  });

  it("outside the window without an approved template fails with whatsapp-template-required and falls back to SMS, as the launch warned", async () => {
    const { account, attempts, messages, warnings } = await whatsappCampaign({ fallbacks: ["sms"] });
    expect(warnings).toEqual([expect.stringMatching(/^variants\.0\.strategy\.steps\.0\.template: no approved WhatsApp Content \(contentSid\) for "reminder"/)]);
    expect(messages.filter((m) => m.channel === "whatsapp")).toHaveLength(0);
    expect(attempts.map((a) => [a.channel, a.status, a.errorCode])).toEqual([
      ["whatsapp", "failed", "whatsapp-template-required"],
      ["sms", "delivered", null],
    ]);
    expect(sandbox.messages().filter((m) => m.to === account.phone && m.channel === "sms")).toHaveLength(1);
  });

  it("sends to the account's WhatsApp number when it has one", async () => {
    const timeZone = zoneAtLocalHour(12);
    const whatsapp = uniqueMobile(timeZone);
    const { messages } = await whatsappCampaign({ contentSid: true, account: { timeZone, whatsapp } });
    expect(messages.map((m) => m.to)).toEqual([`whatsapp:${whatsapp}`]);
  });

  it("does not message a debtor without WhatsApp opt-in", async () => {
    const { attempts, messages } = await whatsappCampaign({ contentSid: true, account: { consent: { whatsapp: false } } });
    expect(attempts).toHaveLength(0);
    expect(messages).toHaveLength(0);
  });

  it("refuses a malformed contentSid", async () => {
    const response = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "bad template",
      strategy: { steps: [{ id: "wa", kind: "contact", channel: "whatsapp", template: "reminder" }] },
      templates: [{ name: "reminder", channel: "whatsapp", locale: "en", body: "Hi", contentSid: "HX123" }],
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: "templates.0.contentSid", reason: "must be a Twilio Content SID (HX and 32 hex digits)" }]);
  });
});
