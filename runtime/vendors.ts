import { randomBytes } from "node:crypto";
import type twilio from "twilio";
import { createEmailSender } from "../activities/channels/email.ts";
import { createSmsSender, MESSAGE_STATUS_PATH } from "../activities/channels/sms.ts";
import type { ChannelSender } from "../activities/channels/types.ts";
import { createVoiceSender } from "../activities/channels/voice.ts";
import { createWhatsappSender } from "../activities/channels/whatsapp.ts";
import type { Channel } from "../domain/channel.ts";
import { unsubscribeUrl } from "../api/routes/unsubscribe.ts";
import { PAYMENT_WEBHOOK_PATH } from "../api/webhooks/payments.ts";
import { INBOUND_MESSAGE_PATH } from "../api/webhooks/twilio-inbound.ts";
import { generateSendgridKeyPair, startVendorSandbox, type OutcomeMix, type Payer, type VendorSandbox } from "../sandbox/index.ts";
import { createSendgridClient } from "../vendors/sendgrid.ts";
import { createTwilioClient } from "../vendors/twilio.ts";
import type { Config } from "./config.ts";
import type { Database } from "./database.ts";
import type { Logger } from "./logger.ts";

export interface Vendors {
  twilio: twilio.Twilio;
  twilioAuthToken: string;
  /** The Twilio account (and API address, for the sandbox) the API's own sends use. */
  twilioAccountSid: string;
  twilioApiBaseUrl: string | undefined;
  /** Verifies SendGrid's signed event webhook: SENDGRID_WEBHOOK_PUBLIC_KEY, or the sandbox's key. */
  sendgridWebhookPublicKey: string;
  /** Keys the HMAC of unsubscribe links. */
  unsubscribeSecret: string;
  /** One sender per channel the configured vendors carry. */
  senders: Partial<Record<Channel, ChannelSender>>;
  /** Running when at least one vendor has no credentials. */
  sandbox: VendorSandbox | undefined;
}

/**
 * Real vendor clients where credentials are configured; otherwise the local vendor sandbox
 * with credentials made up for this process, and our clients pointed at it.
 */
export async function connectVendors(
  config: Config,
  logger: Logger,
  db: Database,
  sandboxOptions: { port: number; seed: number; outcomes: Record<string, unknown>; apiUrl: string },
): Promise<Vendors> {
  let sandbox: VendorSandbox | undefined;
  let credentials = config.twilio;
  const sendgridKeys = config.sendgrid ? undefined : generateSendgridKeyPair();
  if (!credentials || sendgridKeys) {
    const made = { accountSid: `AC${randomBytes(16).toString("hex")}`, authToken: randomBytes(16).toString("hex") };
    sandbox = await startVendorSandbox({
      port: sandboxOptions.port,
      seed: sandboxOptions.seed,
      outcomes: sandboxOptions.outcomes as Partial<OutcomeMix>,
      twilio: made,
      ...(sendgridKeys && {
        sendgrid: { privateKeyPem: sendgridKeys.privateKeyPem },
        sendgridEventsUrl: `${config.publicBaseUrl}/v1/webhooks/sendgrid/events`,
      }),
      twilioInboundUrl: `${config.publicBaseUrl}${INBOUND_MESSAGE_PATH}`,
      // Debtors pay through the sandbox's gateway only when the payment webhook has its secret.
      ...(config.paymentWebhookSecret && {
        payments: { url: `${config.publicBaseUrl}${PAYMENT_WEBHOOK_PATH}`, secret: config.paymentWebhookSecret, payer: (contact) => payerOf(db, contact) },
      }),
      // Callbacks are signed over PUBLIC_BASE_URL, as Twilio would, but delivered locally.
      deliverTo: sandboxOptions.apiUrl,
      logger: logger.child({ component: "vendor-sandbox" }),
    });
    credentials ??= { ...made, apiBaseUrl: sandbox.url };
  }
  const twilio = createTwilioClient(credentials);
  const mail = createSendgridClient(
    sendgridKeys ? { apiKey: `SG.sandbox-${randomBytes(16).toString("hex")}`, apiBaseUrl: sandbox!.url } : { apiKey: config.sendgrid!.apiKey },
  );
  // The SendGrid API key never leaves us and SendGrid (TAGIH_WEBHOOK_SECRET is shared with
  // notify receivers), so it keys unsubscribe links; a sandbox run makes a key up.
  const unsubscribeSecret = config.sendgrid?.apiKey ?? randomBytes(32).toString("hex");
  const senders: Partial<Record<Channel, ChannelSender>> = {
    sms: createSmsSender({
      db,
      twilio,
      from: config.smsFrom,
      creditorName: config.creditorName,
      statusCallback: `${config.publicBaseUrl}${MESSAGE_STATUS_PATH}`,
    }),
    whatsapp: createWhatsappSender({
      db,
      twilio,
      from: config.whatsappFrom,
      creditorName: config.creditorName,
      statusCallback: `${config.publicBaseUrl}${MESSAGE_STATUS_PATH}`,
    }),
    voice: createVoiceSender({ db, twilio, from: config.voiceFrom, publicBaseUrl: config.publicBaseUrl }),
    email: createEmailSender({
      db,
      mail,
      from: config.emailFrom,
      creditorName: config.creditorName,
      unsubscribeUrl: (accountId) => unsubscribeUrl(config.publicBaseUrl, unsubscribeSecret, accountId),
    }),
  };
  return {
    twilio,
    twilioAuthToken: credentials.authToken,
    twilioAccountSid: credentials.accountSid,
    twilioApiBaseUrl: credentials.apiBaseUrl,
    sendgridWebhookPublicKey: sendgridKeys?.publicKeyBase64 ?? config.sendgrid!.webhookPublicKey,
    unsubscribeSecret,
    senders,
    sandbox,
  };
}

/**
 * Who pays in the sandbox for a contact: the account of the attempt the vendor knows by that
 * id, for its balance, as the real gateway learns it from the payment link the debtor opens.
 */
async function payerOf(db: Database, contact: { channel: string; vendorId: string }): Promise<Payer | undefined> {
  const vendor = contact.channel === "email" ? "sendgrid" : "twilio";
  const attempt = await db.contactAttempt.findUnique({
    where: { vendor_vendorId: { vendor, vendorId: contact.vendorId } },
    select: { enrolment: { select: { account: { select: { id: true, balanceMinor: true, currency: true } } } } },
  });
  const account = attempt?.enrolment.account;
  return account && { accountId: account.id, amountMinor: account.balanceMinor, currency: account.currency };
}
