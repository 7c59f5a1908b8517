import { createRoute, z } from "@hono/zod-openapi";
import { WorkflowNotFoundError, type Client } from "@temporalio/client";
import type { Context } from "hono";
import twilio from "twilio";
import { classifyInbound, keywordReply } from "../../domain/keywords.ts";
import { markCallbackApplied, storeCallback } from "../../store/callbacks.ts";
import {
  accountsByNumber,
  noteWhatsappInbound,
  optInByText,
  recordOptOut,
  recordReply,
  runningWorkflowIds,
  textedOptOutSource,
  type InboundChannel,
} from "../../store/inbound.ts";
import { STRANDED_AFTER_MS } from "../../store/stranded-callbacks.ts";
import type { ReplySignal } from "../../workflows/account-messages.ts";
import { checkCallback, problem, validationProblem } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps, TwilioChannelSettings } from "../types.ts";
import { accountSid, messageSid } from "./twilio-fields.ts";

/** Used when the process hands in no Twilio channel settings: no links, no agent, no IVR SMS. */
export const FALLBACK_TWILIO_CHANNELS: TwilioChannelSettings = {
  accountSid: "",
  smsFrom: "+15005550006",
  voiceFrom: "+15005550006",
  creditorName: "Tagih",
  voicemailName: "Alex",
};

/** A Twilio webhook's form; a parameter sent more than once holds all its values. */
export type TwilioForm = Record<string, string | string[]>;

/**
 * Verifies a Twilio webhook (X-Twilio-Signature: HMAC-SHA1 over the public URL Twilio
 * called, query included, plus the sorted form parameters) over its raw form body; returns
 * the parameters, or undefined when the signature is missing or wrong. A parameter the
 * form repeats is signed over all its values in sorted order, so their order is not signed:
 * it stays a list, which a schema reading that field refuses rather than take one value.
 */
export async function verifiedTwilioParams(c: Context, authToken: string, publicBaseUrl: string): Promise<TwilioForm | undefined> {
  const signature = c.req.header("x-twilio-signature");
  const form = new URLSearchParams(await c.req.text());
  const params: TwilioForm = Object.fromEntries(form);
  if (form.size > Object.keys(params).length) {
    for (const key of Object.keys(params)) {
      const values = form.getAll(key);
      if (values.length > 1) params[key] = values;
    }
  }
  const url = `${publicBaseUrl}${c.req.path}${new URL(c.req.url).search}`;
  return signature && twilio.validateRequest(authToken, signature, url, params) ? params : undefined;
}

/**
 * Signals every journey of the accounts that may be running; one that just ended has
 * nothing to hear. Returns how many were told; throws when Temporal cannot be reached.
 */
export async function tellAccountWorkflows(db: ApiDeps["db"], temporal: Client, accountIds: string[], signal: string, arg: unknown): Promise<number> {
  const workflowIds = await runningWorkflowIds(db, accountIds);
  const told = await Promise.all(
    workflowIds.map((id) =>
      temporal.workflow
        .getHandle(id)
        .signal(signal, arg)
        .then(() => 1)
        .catch((error: unknown) => {
          if (error instanceof WorkflowNotFoundError) return 0;
          throw error;
        }),
    ),
  );
  return told.reduce<number>((sum, n) => sum + n, 0);
}

/** A TwiML messaging answer: the reply text, or nothing. */
function twimlReply(c: Context, text?: string) {
  const response = new twilio.twiml.MessagingResponse();
  if (text) response.message(text);
  return c.body(response.toString(), 200, { "Content-Type": "text/xml; charset=utf-8" });
}

const inboundSchema = z.object({
  MessageSid: messageSid,
  AccountSid: accountSid,
  // A debtor's E.164 number, or a short code or alphanumeric sender (a carrier's or a service's
  // message): kept, though no account has it.
  From: z
    .string()
    .regex(
      /^(?:(?:whatsapp:)?\+[1-9]\d{6,14}|\d{3,8}|(?=[A-Za-z0-9 ]*[A-Za-z])[A-Za-z0-9 ]{1,11})$/,
      "must be an E.164 number (optionally prefixed whatsapp:), a short code or an alphanumeric sender",
    ),
  // Ours: a number, a short code or a messaging service's sender, perhaps prefixed whatsapp:.
  To: z.string().min(1).max(64),
  Body: z.string().max(10_000).default(""),
});

/** Where Twilio posts the messages debtors send to our numbers. */
export const INBOUND_MESSAGE_PATH = "/v1/webhooks/twilio/inbound";

const inboundRoute = createRoute({
  method: "post",
  path: INBOUND_MESSAGE_PATH,
  tags: ["webhooks"],
  summary: "Twilio inbound SMS and WhatsApp message (signed with X-Twilio-Signature)",
  description:
    "Form-encoded as Twilio sends it; the signature is checked against PUBLIC_BASE_URL plus this path. Each MessageSid is stored once. " +
    "STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT (or a message clearly asking to stop) opt the number's accounts out of " +
    "that channel in every campaign, with one confirmation; START, UNSTOP, YES opt back in from an opt-out made by text (one ops recorded stays, " +
    "and the answer says to contact the creditor); HELP, INFO get the help text; other text is " +
    "recorded on the latest attempt and signalled to the accounts' running journeys (`reply`). A WhatsApp message opens the 24-hour window.",
  security: [{ twilioSignature: [] }],
  responses: {
    200: { description: "TwiML: the confirmation or help text, or an empty response", content: { "text/xml": { schema: z.string() } } },
    400: { description: "A required field is missing, malformed or longer than Twilio sends it; nothing stored" },
    403: { description: "Missing or invalid signature; nothing stored" },
  },
});

export function twilioInboundRoutes({ db, temporal, logger, settings }: ApiDeps) {
  const app = router();
  const channels = settings.twilioChannels ?? FALLBACK_TWILIO_CHANNELS;

  app.openapi(inboundRoute, async (c) => {
    const params = await verifiedTwilioParams(c, settings.twilioAuthToken, settings.publicBaseUrl);
    if (!params) {
      logger.warn({ vendor: "twilio", path: c.req.path }, "rejected a Twilio inbound message with a missing or invalid signature");
      return problem(c, 403, "Forbidden", "missing or invalid X-Twilio-Signature");
    }
    const parsed = checkCallback(inboundSchema, params);
    if (!parsed.success) return validationProblem(c, parsed.problems);
    const message = parsed.data;

    const stored = await storeCallback(db, { vendor: "twilio", eventId: `${message.MessageSid}:inbound`, kind: "inbound-message", payload: params });
    // A redelivery of a message already handled: the first answer stands, no second confirmation.
    if (stored.alreadyApplied) return twimlReply(c);

    const { answer } = await applyInbound({ db, temporal, logger }, stored.id, message, new Date(), channels);
    return twimlReply(c, answer);
  });
  return app;
}

/**
 * Acts on a stored inbound message: opts out or in, or records a reply and tells the
 * accounts' running journeys. The callback is marked applied once all of it is done; when
 * Temporal cannot take the reply now it stays pending, and `applyStrandedInbound` finishes it
 * (Twilio does not send an inbound message again). Returns the TwiML answer's text.
 */
async function applyInbound(
  { db, temporal, logger }: Pick<ApiDeps, "db" | "temporal" | "logger">,
  callbackId: string,
  message: z.output<typeof inboundSchema>,
  receivedAt: Date,
  channels: TwilioChannelSettings,
): Promise<{ answer?: string }> {
  const channel: InboundChannel = message.From.startsWith("whatsapp:") ? "whatsapp" : "sms";
  const number = message.From.replace(/^whatsapp:/, "");
  const accounts = await accountsByNumber(db, channel, number);
  const context = { vendor: "twilio", channel, messageSid: message.MessageSid, accounts: accounts.length };
  if (accounts.length === 0) {
    logger.info(context, "inbound message from a number no account has");
    await markCallbackApplied(db, callbackId);
    return {};
  }
  const accountIds = accounts.map((a) => a.id);
  if (channel === "whatsapp") await noteWhatsappInbound(db, accountIds, receivedAt);

  const { intent, keyword } = classifyInbound(message.Body);
  const replyContext = { creditor: channels.creditorName, helpPhone: channels.opsPhone };
  const locale = accounts[0]!.locale;
  let answer: string | undefined;
  let routeAsReply = intent === "reply";
  if (intent === "opt-out") {
    const added = await recordOptOut(db, accountIds, channel, textedOptOutSource(keyword));
    // One confirmation per opt-out: a repeated STOP finds the opt-out in place.
    if (added > 0) answer = keywordReply("opt-out", channel, locale, replyContext);
  } else if (intent === "opt-in") {
    const { lifted, kept } = await optInByText(db, accountIds, channel, { keyword: keyword!, messageSid: message.MessageSid });
    // The reply names no account (the number may not be the debtor's): while any opt-out
    // stays, saying "you will receive texts again" would be untrue.
    if (kept > 0) answer = keywordReply("opt-in-refused", channel, locale, replyContext);
    else if (lifted > 0) answer = keywordReply("opt-in", channel, locale, replyContext);
    // "YES" from a debtor who never opted out answers something we asked: a reply.
    else routeAsReply = true;
  } else if (intent === "help") {
    answer = keywordReply("help", channel, locale, replyContext);
  }

  if (routeAsReply) {
    await recordReply(db, accountIds, channel, receivedAt);
    const signal: ReplySignal = { channel, text: message.Body, at: receivedAt.toISOString() };
    try {
      const told = await tellAccountWorkflows(db, temporal, accountIds, "reply", signal);
      logger.info({ ...context, workflows: told }, "inbound reply routed to the account's journeys");
    } catch (error) {
      logger.warn({ err: error, ...context }, "could not signal the account's journeys; the sweeper tells them");
      return { answer };
    }
  } else {
    logger.info({ ...context, intent, keyword, answered: answer !== undefined }, `inbound ${intent}`);
  }
  await markCallbackApplied(db, callbackId);
  return { answer };
}

/**
 * Finishes inbound messages stored but left pending: the journeys could not be told of a
 * reply, or the process stopped mid-way (an opt-out not yet recorded). Their TwiML answer is
 * gone with the request; everything else is done as it would have been. Returns how many.
 */
export async function applyStrandedInbound(
  deps: Pick<ApiDeps, "db" | "temporal" | "logger">,
  channels: TwilioChannelSettings = FALLBACK_TWILIO_CHANNELS,
): Promise<number> {
  const stranded = await deps.db.$queryRaw<{ id: string; payload: TwilioForm; received_at: Date }[]>`
    SELECT id, payload, received_at FROM callbacks
     WHERE vendor = 'twilio' AND kind = 'inbound-message' AND applied_at IS NULL
       AND received_at < now() - make_interval(secs => ${STRANDED_AFTER_MS / 1000})
     ORDER BY received_at LIMIT 100`;
  let applied = 0;
  for (const { id, payload, received_at: receivedAt } of stranded) {
    const parsed = inboundSchema.safeParse(payload);
    if (!parsed.success) {
      await markCallbackApplied(deps.db, id); // stored only after it parsed: nothing to redo
      continue;
    }
    await applyInbound(deps, id, parsed.data, receivedAt, channels);
    applied += 1;
  }
  return applied;
}
