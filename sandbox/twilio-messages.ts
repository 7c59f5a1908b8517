/**
 * Twilio Programmable Messaging (SMS and WhatsApp): `POST …/Messages.json` validates like
 * Twilio, answers 201 with the message resource, then posts signed status callbacks — `sent`,
 * then the drawn terminal status (a `failed` message is never sent, so it reports `failed`
 * alone; a WhatsApp message that is read reports `delivered` then `read`).
 */
import { createHash } from "node:crypto";
import { Hono } from "hono";
import { drawReply, drawSms, drawWhatsapp } from "./outcomes.ts";
import { maybePay } from "./payments.ts";
import { maskPhone } from "./mask.ts";
import { twilioRequest } from "./signing.ts";
import { listPage, API_VERSION, field, isE164, isHttpUrl, newSid, readForm, rfc2822, splitAddress, twilioError } from "./twilio-common.ts";
import type { Context } from "hono";
import type { SandboxContext } from "./context.ts";
import type { Rng } from "./random.ts";
import type { MessageStatus, SandboxMessage } from "./types.ts";

/** Twilio's test numbers: a message to one of them fails at once with this error. */
const MAGIC_TO: Record<string, [number, string]> = {
  "+15005550001": [21211, "The 'To' number +15005550001 is not a valid phone number."],
  "+15005550002": [21612, "The 'To' phone number is not currently reachable via SMS."],
  "+15005550003": [21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +15005550003."],
  "+15005550004": [21610, "Attempt to send to unsubscribed recipient"],
  "+15005550009": [21614, "'To' number is not a valid mobile number"],
};
const UNDELIVERED_CODES = [30003, 30005, 30006] as const;
const FAILED_CODE = 30008;
const SANDBOX_SENDER = "+15005550006";

/** Routes under `/2010-04-01/Accounts/:accountSid`. */
export function messageRoutes(ctx: SandboxContext): Hono {
  const app = new Hono();
  app.post("/Messages.json", (c) => createMessage(c, ctx));
  // The list resource, filtered like Twilio's by To, From and DateSent> (on or after).
  app.get("/Messages.json", (c) => {
    const to = c.req.query("To");
    const from = c.req.query("From");
    const after = c.req.query("DateSent>") ?? c.req.query("DateSent>=");
    const since = after ? Date.parse(after) : Number.NEGATIVE_INFINITY;
    const messages = [...ctx.store.messages.values()].filter((m) => (!to || m.to === to) && (!from || m.from === from) && Date.parse(m.createdAt) >= since);
    return c.json(listPage("messages", messages.reverse().map(messageResource), c.req.path));
  });
  app.get("/Messages/:file", (c) => {
    const message = ctx.store.messages.get(c.req.param("file").replace(/\.json$/, ""));
    if (!message) return twilioError(c, 404, 20404, `The requested resource ${c.req.path} was not found`);
    return c.json(messageResource(message));
  });
  return app;
}

async function createMessage(c: Context, ctx: SandboxContext): Promise<Response> {
  const form = await readForm(c);
  const to = field(form, "To");
  const from = field(form, "From");
  const messagingServiceSid = field(form, "MessagingServiceSid");
  const body = form.get("Body") ?? "";
  const contentSid = field(form, "ContentSid");
  const contentVariables = field(form, "ContentVariables");
  const mediaUrl = form.getAll("MediaUrl").filter(Boolean);
  const statusCallback = field(form, "StatusCallback");

  if (!to) return twilioError(c, 400, 21604, "A 'To' phone number is required.");
  if (!from && !messagingServiceSid) return twilioError(c, 400, 21603, "A 'From' phone number is required.");
  if (!body && !contentSid && mediaUrl.length === 0) return twilioError(c, 400, 21602, "Message body is required.");
  const toAddress = splitAddress(to);
  if (!isE164(toAddress.address) || (toAddress.prefix !== null && toAddress.prefix !== "whatsapp")) {
    return twilioError(c, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
  }
  if (from && splitAddress(from).prefix !== toAddress.prefix) {
    return twilioError(c, 400, 21910, "Invalid From and To pair. From and To should be of the same channel");
  }
  if (contentVariables && !isJsonObject(contentVariables)) {
    return twilioError(c, 400, 21656, "The ContentVariables Parameter is invalid.");
  }
  if (statusCallback && !isHttpUrl(statusCallback)) {
    return twilioError(c, 400, 21609, "The StatusCallback URL is not a valid URL.");
  }
  const magic = MAGIC_TO[toAddress.address];
  if (magic) return twilioError(c, 400, magic[0], magic[1]);

  const channel = toAddress.prefix === "whatsapp" ? "whatsapp" : "sms";
  const rng = ctx.rng.fork();
  const outcome = channel === "sms" ? drawSms(rng, ctx.outcomes()) : drawWhatsapp(rng, ctx.outcomes());
  const now = new Date().toISOString();
  const message: SandboxMessage = {
    sid: newSid(mediaUrl.length > 0 ? "MM" : "SM"),
    accountSid: ctx.twilio.accountSid,
    channel,
    to,
    from: from ?? (channel === "whatsapp" ? `whatsapp:${SANDBOX_SENDER}` : SANDBOX_SENDER),
    messagingServiceSid,
    body,
    contentSid,
    contentVariables,
    mediaUrl,
    statusCallback,
    numSegments: segments(body),
    createdAt: now,
    updatedAt: now,
    status: from ? "queued" : "accepted",
    outcome,
    reply: null,
    errorCode: null,
    price: null,
  };
  const errorCode = outcome === "undelivered" ? rng.pick(UNDELIVERED_CODES.map((code) => [code, 1] as const)) : outcome === "failed" ? FAILED_CODE : null;
  ctx.store.messages.set(message.sid, message);
  ctx.logger.info({ sid: message.sid, channel, recipient: maskPhone(to), outcome }, "sandbox message received");
  const resource = messageResource(message);
  ctx.queue.run(() => deliverStatuses(ctx, message, rng, errorCode));
  return c.json(from ? resource : { ...resource, from: null }, 201);
}

function statusSequence(outcome: SandboxMessage["outcome"]): MessageStatus[] {
  switch (outcome) {
    case "failed":
      return ["failed"];
    case "read":
      return ["sent", "delivered", "read"];
    default:
      return ["sent", outcome];
  }
}

/** Moves the message through its statuses (in true order) while delivering the callbacks (as planned). */
async function deliverStatuses(ctx: SandboxContext, message: SandboxMessage, rng: Rng, errorCode: number | null): Promise<void> {
  const statuses = statusSequence(message.outcome);
  const requests = statuses.map((status) => {
    const params = statusParams(ctx, message, status, errorCode);
    return message.statusCallback ? twilioRequest(ctx.twilio.authToken, "message-status", message.sid, message.statusCallback, params) : null;
  });
  let happened = 0;
  for (const { item, duplicate } of ctx.queue.plan(requests, rng)) {
    await ctx.queue.wait(rng);
    // The resource moves in true order, one status per first delivery, whatever order the callbacks go out in.
    if (!duplicate) advance(message, statuses[happened++] ?? message.outcome, errorCode);
    if (item) await ctx.queue.send(item, { duplicate });
  }
  if (message.outcome !== "delivered" && message.outcome !== "read") return;
  await reply(ctx, message, rng);
  await maybePay(ctx, rng, { channel: message.channel, vendorId: message.sid });
}

/** The debtor's reply to a delivered text, if the mix draws one: posted as Twilio posts an incoming message. */
async function reply(ctx: SandboxContext, message: SandboxMessage, rng: Rng): Promise<void> {
  const text = drawReply(rng, ctx.outcomes(), message.channel);
  if (text === undefined || !ctx.twilioInboundUrl) return;
  message.reply = text;
  const sid = newSid("SM");
  const debtor = splitAddress(message.to).address;
  const params: Record<string, string> = {
    ApiVersion: API_VERSION,
    AccountSid: message.accountSid,
    MessageSid: sid,
    SmsMessageSid: sid,
    SmsSid: sid,
    SmsStatus: "received",
    From: message.to,
    To: message.from ?? SANDBOX_SENDER,
    Body: text,
    NumMedia: "0",
    NumSegments: String(segments(text)),
  };
  if (message.messagingServiceSid) params.MessagingServiceSid = message.messagingServiceSid;
  if (message.channel === "whatsapp") Object.assign(params, { WaId: debtor.replace(/^\+/, ""), ProfileName: "Sandbox Debtor", MessageType: "text" });
  ctx.logger.info({ sid, inReplyTo: message.sid, sender: maskPhone(message.to) }, "sandbox reply sent");
  await ctx.queue.deliver(twilioRequest(ctx.twilio.authToken, "inbound-message", sid, ctx.twilioInboundUrl, params), rng);
}

function advance(message: SandboxMessage, status: MessageStatus, errorCode: number | null): void {
  const order: MessageStatus[] = ["accepted", "queued", "sent", "delivered", "undelivered", "failed", "read"];
  if (order.indexOf(status) <= order.indexOf(message.status)) return;
  message.status = status;
  message.updatedAt = new Date().toISOString();
  if (status === "undelivered" || status === "failed") message.errorCode = errorCode;
  if (status !== "failed" && status !== "sent" && message.price === null) {
    const unit = message.channel === "whatsapp" ? 0.005 : 0.0079;
    message.price = (-unit * message.numSegments).toFixed(5);
  }
}

function statusParams(ctx: SandboxContext, message: SandboxMessage, status: MessageStatus, errorCode: number | null): Record<string, string> {
  const params: Record<string, string> = {
    ApiVersion: API_VERSION,
    AccountSid: message.accountSid,
    MessageSid: message.sid,
    SmsSid: message.sid,
    MessageStatus: status,
    SmsStatus: status,
    To: message.to,
    From: message.from ?? "",
  };
  if (message.messagingServiceSid) params.MessagingServiceSid = message.messagingServiceSid;
  if ((status === "undelivered" || status === "failed") && errorCode !== null) params.ErrorCode = String(errorCode);
  if (message.channel === "whatsapp") {
    params.ChannelPrefix = "whatsapp";
    params.ChannelInstallSid = "XE" + createHash("md5").update(ctx.twilio.accountSid).digest("hex");
    params.ChannelToAddress = splitAddress(message.to).address;
    params.StructuredMessage = "false";
  } else if (status === "delivered") {
    params.RawDlrDoneDate = new Date().toISOString().replace(/\D/g, "").slice(2, 12);
  }
  return params;
}

/** The message resource as Twilio's API returns it. */
export function messageResource(m: SandboxMessage): Record<string, unknown> {
  const uri = `/${API_VERSION}/Accounts/${m.accountSid}/Messages/${m.sid}.json`;
  return {
    account_sid: m.accountSid,
    api_version: API_VERSION,
    body: m.body,
    date_created: rfc2822(new Date(m.createdAt)),
    date_sent: m.status === "queued" || m.status === "accepted" ? null : rfc2822(new Date(m.updatedAt)),
    date_updated: rfc2822(new Date(m.updatedAt)),
    direction: "outbound-api",
    error_code: m.errorCode,
    error_message: null,
    from: m.from,
    messaging_service_sid: m.messagingServiceSid,
    num_media: String(m.mediaUrl.length),
    num_segments: String(m.numSegments),
    price: m.price,
    price_unit: "USD",
    sid: m.sid,
    status: m.status,
    subresource_uris: { media: uri.replace(/\.json$/, "/Media.json") },
    to: m.to,
    uri,
  };
}

const GSM7 = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\[~\]|€]*$/;

/** SMS segments: GSM-7 (160, or 153 per part) or UCS-2 (70, or 67 per part). */
export function segments(body: string): number {
  if (body.length === 0) return 1;
  if (GSM7.test(body)) {
    const length = body.length + (body.match(/[\^{}\\[~\]|€]/g)?.length ?? 0);
    return length <= 160 ? 1 : Math.ceil(length / 153);
  }
  const units = body.length;
  return units <= 70 ? 1 : Math.ceil(units / 67);
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
