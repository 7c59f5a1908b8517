/**
 * Public types of the vendor sandbox: its options, the outcome mix it draws from, and the
 * records it keeps of what it received and what it called back.
 */

export type SmsOutcome = "delivered" | "undelivered" | "failed";
export type WhatsappOutcome = SmsOutcome | "read";
export type VoiceOutcome = "completed" | "no-answer" | "busy" | "failed" | "machine";
export type EmailDeliveryOutcome = "delivered" | "bounce" | "dropped" | "deferred";
export type EmailEngagement = "open" | "click" | "unsubscribe" | "spamreport";

/**
 * What the sandbox makes happen to each request, per channel. A channel given replaces that
 * channel's default mix entirely; keys left out weigh 0.
 * - sms / whatsapp / voice / the email delivery outcomes: relative weights of one draw.
 * - email engagement (open, click, unsubscribe, spamreport): independent probabilities
 *   (0..1) drawn for each delivered recipient.
 * - voice.digits: the keypresses a human answerer enters, one entry per `<Gather>` met,
 *   e.g. `["2", "25122026#"]`; a trailing finishOnKey (`#`) ends the entry as on a phone.
 */
export interface OutcomeMix {
  sms: Partial<Record<SmsOutcome, number>> & Replies;
  whatsapp: Partial<Record<WhatsappOutcome, number>> & Replies;
  voice: Partial<Record<VoiceOutcome, number>> & { digits?: string[] };
  email: Partial<Record<EmailDeliveryOutcome | EmailEngagement, number>>;
  /**
   * Debtors paying through the payment gateway after a contact that reached them (a text
   * delivered or read, an email delivered, a call a person answered): `after` the chance
   * (0..1) of a payment, `full` the chance (0..1) that it is the whole balance (else half).
   * Needs the sandbox's `payments` option.
   */
  payments?: { after?: number; full?: number };
}

/**
 * The debtor's reply to a delivered text, sent to `twilioInboundUrl` as Twilio posts an
 * incoming message: `reply` the chance (0..1) of one, `replyTexts` what they write (one
 * drawn at random; default `["PAID"]`), e.g. `["PAID", "PTP 25/12", "STOP"]`.
 */
export interface Replies {
  reply?: number;
  replyTexts?: string[];
}

/** The account a payment is for, as the payment gateway learns it from its payment link. */
export interface Payer {
  accountId: string;
  /** The balance due, in minor units. */
  amountMinor: bigint;
  currency: string;
}

export interface SandboxLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface SandboxOptions {
  /** 0 or absent: a random free port on 127.0.0.1. */
  port?: number;
  twilio: { accountSid: string; authToken: string };
  /** ECDSA P-256 private key (PEM) that signs event webhooks; see generateSendgridKeyPair(). */
  sendgrid?: { privateKeyPem: string };
  /** Where SendGrid events are posted: our webhook's public URL. */
  sendgridEventsUrl?: string;
  /**
   * Base URL that replaces the scheme and host of every callback URL when delivering. Signatures
   * are still computed over the original URL, as when a proxy sits in front of our API.
   */
  deliverTo?: string;
  /** Seed of the outcome draws; the same seed and request order give the same outcomes. */
  seed?: number;
  outcomes?: Partial<OutcomeMix>;
  /** Delay before each callback (default 0). */
  delayMs?: number | { min: number; max: number };
  /** Probability (0..1) that a status callback or event batch is delivered twice. */
  duplicates?: number;
  /** Deliver the status callbacks (or event batches) of one message in shuffled order. */
  reorder?: boolean;
  /** Where Twilio posts the debtors' replies (incoming messages); unset: no replies. */
  twilioInboundUrl?: string;
  /**
   * The payment gateway the mix's `payments` go through: its notification URL, the secret
   * it signs them with (`X-Tagih-Signature`), and `payer`, who pays for the contact the
   * vendor knows by `vendorId` (message or call SID, SendGrid message id).
   */
  payments?: { url: string; secret: string; payer(contact: { channel: "sms" | "whatsapp" | "voice" | "email"; vendorId: string }): Promise<Payer | undefined> };
  logger?: SandboxLogger;
}

export type MessageStatus = "accepted" | "queued" | "sent" | "delivered" | "read" | "undelivered" | "failed";

export interface SandboxMessage {
  sid: string;
  accountSid: string;
  channel: "sms" | "whatsapp";
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  contentSid: string | null;
  contentVariables: string | null;
  mediaUrl: string[];
  statusCallback: string | null;
  numSegments: number;
  createdAt: string;
  updatedAt: string;
  /** Current status; reaches `outcome` once every callback went out. */
  status: MessageStatus;
  /** The terminal status drawn when the message was received. */
  outcome: WhatsappOutcome;
  /** What the debtor replied (drawn from the mix's `reply`), once sent; else null. */
  reply: string | null;
  errorCode: number | null;
  price: string | null;
}

export type CallStatus = "queued" | "initiated" | "ringing" | "in-progress" | "completed" | "busy" | "no-answer" | "failed" | "canceled";

export interface SandboxCall {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  url: string | null;
  method: string;
  twiml: string | null;
  statusCallback: string | null;
  statusCallbackEvents: string[];
  machineDetection: string | null;
  asyncAmd: boolean;
  asyncAmdStatusCallback: string | null;
  createdAt: string;
  updatedAt: string;
  status: CallStatus;
  outcome: VoiceOutcome;
  answeredBy: string | null;
  /** Digits posted to Gather actions, in order, as sent (without the finishOnKey). */
  digitsSent: string[];
  /** Seconds, set when the call ends. */
  duration: number | null;
  price: string | null;
}

export interface SandboxEmailRecipient {
  email: string;
  personalization: number;
  sgMessageId: string;
  outcome: EmailDeliveryOutcome;
  /** Event names generated for this recipient, in true order. */
  events: string[];
}

export interface SandboxEmail {
  /** The X-Message-Id returned to the sender. */
  messageId: string;
  from: unknown;
  subject: string | null;
  templateId: string | null;
  personalizations: unknown[];
  customArgs: Record<string, string>;
  headers: Record<string, string>;
  content: unknown[];
  categories: string[];
  /** Sent with mail_settings.sandbox_mode enabled: accepted (200), never delivered. */
  sandboxMode: boolean;
  createdAt: string;
  recipients: SandboxEmailRecipient[];
}

export type CallbackKind =
  "message-status" | "call-status" | "voice-url" | "gather" | "redirect" | "amd-status" | "sendgrid-events" | "inbound-message" | "payment";

export interface SandboxCallbackRecord {
  id: number;
  kind: CallbackKind;
  /** Message or call sid, or the SendGrid X-Message-Id. */
  resourceId: string;
  /** The URL as the vendor was given it (the one signed). */
  url: string;
  /** Where the request actually went (differs when deliverTo is set). */
  deliveredTo: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  /** HTTP status of the response; null when the request failed. */
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  /** 1 for the first try; higher for retries. */
  attempt: number;
  /** True for the extra copy delivered by the `duplicates` option. */
  duplicate: boolean;
  sentAt: string;
}

export interface VendorSandbox {
  /** Base URL, e.g. http://127.0.0.1:54321 */
  url: string;
  /** The seed in use (given or drawn), so a run can be replayed. */
  seed: number;
  messages(): SandboxMessage[];
  calls(): SandboxCall[];
  emails(): SandboxEmail[];
  callbacks(): SandboxCallbackRecord[];
  /** Resolves when no callback is pending. */
  idle(): Promise<void>;
  setOutcomes(mix: Partial<OutcomeMix>): void;
  close(): Promise<void>;
}
