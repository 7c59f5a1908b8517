import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import twilio from "twilio";
import type VoiceResponse from "twilio/lib/twiml/VoiceResponse.js";
import { speechFor, VOICE_STATUS_PATH, voiceTwimlPath, type Speech } from "../../activities/channels/voice.ts";
import { policyFor } from "../../domain/compliance/index.ts";
import type { Account, Campaign } from "../../generated/prisma/client.ts";
import { markCallbackApplied, storeCallback } from "../../store/callbacks.ts";
import { applyOwing } from "../../store/message-status-intake.ts";
import { applyTwilioCallStatus, callSeconds, isMachine, MAX_CALL_SECONDS, markConversation, recordCallPromise } from "../../store/voice.ts";
import { campaignTemplates, renderTemplate, resolveTemplate, type TemplateContext } from "../../templates/render.ts";
import { createOutcomeSignaller } from "../outcome-signals.ts";
import { tellOfCallPromise } from "./call-promises.ts";
import { createPaymentLinks } from "./payment-links.ts";
import { checkCallback, fieldProblems, problem, validationProblem } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";
import { accountSid, callSid, statusWord } from "./twilio-fields.ts";
import { FALLBACK_TWILIO_CHANNELS, verifiedTwilioParams, type TwilioForm } from "./twilio-inbound.ts";

/** The latest promise date the keypad accepts, in days from the debtor's today. */
export const MAX_PROMISE_DAYS = 60;
/** How often a caller may key an invalid date before we say goodbye. */
const MAX_DATE_TRIES = 3;

/**
 * A promise date keyed as DDMMYYYY, as an ISO date, if it is a real calendar date.
 * @example parseKeypadDate("25122026") // "2026-12-25"
 * @example parseKeypadDate("31022026") // undefined
 */
export function parseKeypadDate(digits: string): string | undefined {
  const match = /^(\d{2})(\d{2})(\d{4})$/.exec(digits);
  if (!match) return undefined;
  const [, dd, mm, yyyy] = match;
  const date = new Date(Date.UTC(Number(yyyy), Number(mm) - 1, Number(dd)));
  const iso = `${yyyy}-${mm}-${dd}`;
  return date.toISOString().slice(0, 10) === iso ? iso : undefined;
}

/** The debtor's calendar date now, and the latest date a promise may name. */
export function promiseWindow(timeZone: string, now: Date): { today: string; latest: string } {
  const today = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
  const latest = new Date(Date.parse(`${today}T00:00:00Z`) + MAX_PROMISE_DAYS * 86_400_000).toISOString().slice(0, 10);
  return { today, latest };
}

/** Digits spoken one by one: "+15005550006" → "1 5 0 0 5 5 5 0 0 0 6". */
const spokenNumber = (number: string) => number.replace(/\D/g, "").split("").join(" ");

const callStatusSchema = z.object({
  CallSid: callSid,
  CallStatus: statusWord,
  AccountSid: accountSid,
  AnsweredBy: statusWord.optional(),
  CallDuration: z
    .string()
    .refine((duration) => callSeconds(duration) !== undefined, `must be whole seconds from 0 to ${MAX_CALL_SECONDS} (a day)`)
    .optional(),
});
const twimlRequestSchema = z.object({
  CallSid: callSid,
  AccountSid: accountSid,
  AnsweredBy: statusWord.optional(),
  Digits: z.string().max(64).optional(),
});
const TRIES = `must be the count of earlier tries, 1 to ${MAX_DATE_TRIES - 1}`;
/**
 * What each stage's URL may carry in its query: only what `stageUrl` puts there. The event
 * id of a keypress is built from it, so nothing else may come along.
 */
const STAGE_QUERIES = {
  "voice-url": z.strictObject({}, "takes no query"),
  menu: z.strictObject({}, "takes no query"),
  "promise-date": z.strictObject(
    {
      tries: z.coerce
        .number(TRIES)
        .int(TRIES)
        .min(1, TRIES)
        .max(MAX_DATE_TRIES - 1, TRIES)
        .optional(),
    },
    "takes only tries",
  ),
  "promise-confirm": z.strictObject({ date: z.iso.date("must be a date YYYY-MM-DD") }, "takes only date"),
};

const twimlResponses = {
  200: { description: "TwiML for the call", content: { "text/xml": { schema: z.string() } } },
  400: { description: "A required field is missing, malformed or longer than Twilio sends it, or the query is not one we gave Twilio; nothing stored" },
  403: { description: "Missing or invalid signature; nothing stored" },
};
const attemptParam = z.object({ attemptId: z.uuid() });

const statusRoute = createRoute({
  method: "post",
  path: VOICE_STATUS_PATH,
  tags: ["webhooks"],
  summary: "Twilio call status callback (signed with X-Twilio-Signature)",
  description:
    "Form-encoded as Twilio sends it. Each (CallSid, CallStatus) is stored once. Call statuses map onto attempt statuses that only move forward: " +
    "initiated → sending, ringing/in-progress → sent, completed with a person → delivered, completed by a machine → undelivered " +
    "(answering-machine), busy/no-answer/failed → failed, canceled → canceled.",
  security: [{ twilioSignature: [] }],
  responses: {
    204: { description: "Stored (and applied, unless stale)" },
    400: { description: "A required field is missing, malformed or longer than Twilio sends it; nothing stored" },
    403: { description: "Missing or invalid signature; nothing stored" },
  },
});
const twimlRoute = (stage: "" | "/menu" | "/promise-date" | "/promise-confirm", summary: string) =>
  createRoute({
    method: "post",
    path: `/v1/webhooks/twilio/voice/attempts/{attemptId}${stage}`,
    tags: ["webhooks"],
    summary,
    security: [{ twilioSignature: [] }],
    request: { params: attemptParam },
    responses: twimlResponses,
  });

type Stage = "voice-url" | "menu" | "promise-date" | "promise-confirm";

export function twilioVoiceRoutes({ db, temporal, logger, settings }: ApiDeps) {
  const app = router();
  const signaller = createOutcomeSignaller({ db, temporal, logger });
  const channels = settings.twilioChannels ?? FALLBACK_TWILIO_CHANNELS;
  const paymentLinks = createPaymentLinks({ db, logger, channels, settings });

  app.openapi(statusRoute, async (c) => {
    const params = await verifiedTwilioParams(c, settings.twilioAuthToken, settings.publicBaseUrl);
    if (!params) return forbidden(c);
    const parsed = checkCallback(callStatusSchema, params);
    if (!parsed.success) return validationProblem(c, parsed.problems);
    const event = parsed.data;
    const stored = await storeCallback(db, { vendor: "twilio", eventId: `${event.CallSid}:${event.CallStatus}`, kind: "call-status", payload: params });
    // As for messages, the outcome's signal is owed on the stored callback (an outbox): Twilio
    // does not send a status callback again, so one Temporal could not take now is sent by
    // the outcome-signal sweeper, never answered 5xx and lost.
    const owed = stored.alreadyApplied ? undefined : await applyOwing(db, stored.id, (tx) => applyTwilioCallStatus(tx, stored.id, event));
    if (owed) signaller.send([{ callbackId: stored.id, signal: owed }]);
    return c.body(null, 204);
  });

  app.openapi(twimlRoute("", "IVR script for a call (Twilio fetches it when the call is answered; AnsweredBy decides person or voicemail)"), (c) =>
    handle(c, "voice-url", async (call) => {
      if (isMachine(call.request.AnsweredBy)) return voicemail(call);
      const response = new twilio.twiml.VoiceResponse();
      response.say({ language: call.speech.language }, await speak(call, call.attempt.stepTemplate));
      await menu(call, response);
      return response;
    }),
  );

  app.openapi(twimlRoute("/menu", "IVR menu keypress: 1 pay now (payment link by SMS), 2 promise to pay, 3 speak to an agent"), (c) =>
    handle(c, "menu", async (call) => {
      const response = new twilio.twiml.VoiceResponse();
      const digit = call.request.Digits ?? "";
      if (digit === "1" && channels.paymentLinkBase) {
        if (await paymentLinks.send(call.account, call.attempt)) {
          response.say({ language: call.speech.language }, await speak(call, "ivr-payment-link"));
          response.hangup();
          return response;
        }
        response.say({ language: call.speech.language }, await speak(call, "ivr-sms-unavailable"));
        await menu(call, response);
        return response;
      }
      if (digit === "2") return promiseDatePrompt(call, response, 0);
      if (digit === "3" && channels.opsPhone) {
        response.say({ language: call.speech.language }, await speak(call, "ivr-agent"));
        response.dial({ callerId: channels.voiceFrom, timeout: 30 }, channels.opsPhone);
        response.say({ language: call.speech.language }, await speak(call, "ivr-goodbye"));
        return response;
      }
      response.say({ language: call.speech.language }, await speak(call, "ivr-invalid"));
      await menu(call, response);
      return response;
    }),
  );

  app.openapi(twimlRoute("/promise-date", "IVR promise date keyed as DDMMYYYY then #; read back for confirmation"), (c) =>
    handle(c, "promise-date", async (call) => {
      const response = new twilio.twiml.VoiceResponse();
      const tries = call.query.tries ?? 0;
      const date = parseKeypadDate(call.request.Digits ?? "");
      const { today, latest } = promiseWindow(call.timeZone, new Date());
      if (!date || date < today || date > latest) {
        response.say({ language: call.speech.language }, await speak(call, "ivr-promise-invalid", { latestDate: latest }));
        if (tries + 1 >= MAX_DATE_TRIES) return goodbye(call, response);
        return promiseDatePrompt(call, response, tries + 1);
      }
      const gather = response.gather({ input: ["dtmf"], numDigits: 1, timeout: 8, method: "POST", action: stageUrl(call, "promise-confirm", { date }) });
      gather.say({ language: call.speech.language }, await speak(call, "ivr-promise-confirm", { promiseDate: date }));
      return goodbye(call, response);
    }),
  );

  app.openapi(twimlRoute("/promise-confirm", "IVR promise confirmation: 1 records the promise and pauses the account's journeys, 2 re-enters the date"), (c) =>
    handle(c, "promise-confirm", async (call) => {
      const response = new twilio.twiml.VoiceResponse();
      const { date } = call.query;
      const digit = call.request.Digits ?? "";
      if (digit === "1") {
        await recordPromise(call, date);
        response.say({ language: call.speech.language }, await speak(call, "ivr-promise-recorded", { promiseDate: date }));
        response.hangup();
        return response;
      }
      if (digit === "2") return promiseDatePrompt(call, response, 0);
      const gather = response.gather({ input: ["dtmf"], numDigits: 1, timeout: 8, method: "POST", action: stageUrl(call, "promise-confirm", { date }) });
      gather.say({ language: call.speech.language }, await speak(call, "ivr-promise-confirm", { promiseDate: date }));
      return goodbye(call, response);
    }),
  );

  interface Call<S extends Stage = Stage> {
    request: z.infer<typeof twimlRequestSchema>;
    query: z.infer<(typeof STAGE_QUERIES)[S]>;
    params: TwilioForm;
    attempt: { id: string; enrolmentId: string; stepId: string; visit: number; stepTemplate: string };
    account: Account;
    campaign: Campaign;
    speech: Speech;
    timeZone: string;
  }

  /**
   * What every TwiML request shares: the signature, the request's fields, the attempt it is
   * for (the call must be that attempt's), storing it once, and marking a keypress as a
   * conversation. The script comes back as TwiML; a problem response passes through.
   */
  async function handle<S extends Stage>(c: Context, stage: S, script: (call: Call<S>) => Promise<VoiceResponse | Response>): Promise<Response> {
    const params = await verifiedTwilioParams(c, settings.twilioAuthToken, settings.publicBaseUrl);
    if (!params) return forbidden(c);
    const parsed = checkCallback(twimlRequestSchema, params);
    if (!parsed.success) return validationProblem(c, parsed.problems);
    const queried = STAGE_QUERIES[stage].safeParse(Object.fromEntries(new URL(c.req.url).searchParams));
    if (!queried.success) return validationProblem(c, fieldProblems(queried.error, "query"));
    const request = parsed.data;
    const query = queried.data as Call<S>["query"];
    const attemptId = c.req.param("attemptId")!;
    const context = { vendor: "twilio", attemptId, vendorId: request.CallSid, stage };

    // The query as stageUrl writes it, whatever order or repeats the request's had.
    const search = new URLSearchParams(Object.entries(query).map(([key, value]): [string, string] => [key, String(value)])).toString();
    const eventId = stage === "voice-url" ? `${request.CallSid}:voice-url` : `${request.CallSid}:${stage}:${request.Digits ?? ""}:${search && `?${search}`}`;
    // The attempt id comes from the URL Twilio was given; kept so a retried send finds its call.
    const stored = await storeCallback(db, {
      vendor: "twilio",
      eventId,
      kind: stage === "voice-url" ? "voice-url" : "gather",
      payload: { ...params, AttemptId: attemptId },
    });

    const attempt = await db.contactAttempt.findUnique({ where: { id: attemptId }, include: { enrolment: { include: { account: true, campaign: true } } } });
    if (!attempt || attempt.channel !== "voice" || (attempt.vendorId !== null && attempt.vendorId !== request.CallSid)) {
      logger.warn(context, "TwiML request for a call that is not this attempt's; hanging up");
      await markCallbackApplied(db, stored.id);
      const response = new twilio.twiml.VoiceResponse();
      response.hangup();
      return twiml(c, response);
    }
    if (stage !== "voice-url" && request.Digits) await markConversation(db, attempt.id, new Date());
    const { account, campaign } = attempt.enrolment;
    const call: Call<S> = {
      request,
      query,
      params,
      attempt: {
        id: attempt.id,
        enrolmentId: attempt.enrolmentId,
        stepId: attempt.stepId,
        visit: attempt.visit,
        stepTemplate: stepTemplateOf(campaign, attempt.enrolment.variant, attempt.stepId),
      },
      account,
      campaign,
      speech: speechFor(account.locale),
      timeZone: account.timeZone ?? policyFor(account.jurisdiction).timeZones[0] ?? "UTC",
    };
    const result = await script(call);
    await markCallbackApplied(db, stored.id).catch(() => undefined);
    if (result instanceof Response) return result;
    logger.info({ ...context, digits: request.Digits ? request.Digits.length : 0 }, `IVR ${stage}`);
    return twiml(c, result);
  }

  function stageUrl(call: Call, stage: "menu" | "promise-date" | "promise-confirm", query: Record<string, string> = {}): string {
    const search = new URLSearchParams(query).toString();
    return `${settings.publicBaseUrl}${voiceTwimlPath(call.attempt.id)}/${stage}${search ? `?${search}` : ""}`;
  }

  /** Renders an IVR script in the caller's language; the greeting may be the campaign's own. */
  async function speak(call: Call, name: string, extra: Record<string, unknown> = {}): Promise<string> {
    const own = name === call.attempt.stepTemplate ? campaignTemplates(call.campaign) : [];
    const { body: source } = await resolveTemplate(name, "voice", call.speech.textLocale, own);
    const { account } = call;
    const context = {
      name: account.name,
      firstName: account.name.split(/\s+/)[0] ?? account.name,
      amountDue: account.balanceMinor,
      currency: account.currency,
      dueDate: account.dueDate,
      locale: call.speech.formatLocale,
      timeZone: account.timeZone,
      creditor: channels.creditorName,
      payOption: Boolean(channels.paymentLinkBase),
      agentOption: Boolean(channels.opsPhone),
      ...extra,
    };
    return renderTemplate(source, context);
  }

  /** The keypad menu, offered twice, then goodbye. */
  async function menu(call: Call, response: VoiceResponse): Promise<void> {
    const text = await speak(call, "ivr-menu");
    for (let i = 0; i < 2; i++) {
      response
        .gather({ input: ["dtmf"], numDigits: 1, timeout: 6, method: "POST", action: stageUrl(call, "menu") })
        .say({ language: call.speech.language }, text);
    }
    await goodbye(call, response);
  }

  async function promiseDatePrompt(call: Call, response: VoiceResponse, tries: number): Promise<VoiceResponse> {
    const gather = response.gather({
      input: ["dtmf"],
      finishOnKey: "#",
      timeout: 10,
      method: "POST",
      action: stageUrl(call, "promise-date", tries > 0 ? { tries: String(tries) } : {}),
    });
    gather.say({ language: call.speech.language }, await speak(call, "ivr-promise-date"));
    return goodbye(call, response);
  }

  async function goodbye(call: Call, response: VoiceResponse): Promise<VoiceResponse> {
    response.say({ language: call.speech.language }, await speak(call, "ivr-goodbye"));
    response.hangup();
    return response;
  }

  /**
   * A limited-content message (12 CFR 1006.2(j)): a person's name, the business without
   * "debt collector", a request to call back and a number — nothing about the debt. Only the
   * shipped script is used, rendered with nothing but those fields, so a script that names
   * the debt fails to render rather than being left on a machine.
   */
  async function voicemail(call: Call): Promise<VoiceResponse> {
    const { body: source } = await resolveTemplate("voicemail", "voice", call.speech.textLocale, []);
    const limited = {
      agentName: channels.voicemailName,
      creditor: channels.creditorName,
      callbackNumber: spokenNumber(channels.opsPhone ?? channels.voiceFrom),
      locale: call.speech.formatLocale,
    } as unknown as TemplateContext;
    const response = new twilio.twiml.VoiceResponse();
    response.say({ language: call.speech.language }, renderTemplate(source, limited));
    response.hangup();
    return response;
  }

  /** Stores the call's promise once and pauses every running journey of the account. */
  async function recordPromise(call: Call, dueDate: string): Promise<void> {
    const { account } = call;
    const stored = await storeCallback(db, { vendor: "twilio", eventId: `${call.request.CallSid}:promise`, kind: "promise", payload: call.params });
    const created = await recordCallPromise(db, stored.id, {
      accountId: account.id,
      enrolmentId: call.attempt.enrolmentId,
      attemptId: call.attempt.id,
      amountMinor: account.balanceMinor,
      currency: account.currency,
      dueDate,
    });
    if (!created) return;
    // The caller is on the line: a Temporal hiccup must not cost them the confirmation. A
    // promise its journeys could not be told of is told by the sweep (`tellUntoldCallPromises`).
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const told = await tellOfCallPromise({ db, temporal }, stored.id, {
          id: created.id,
          accountId: account.id,
          amountMinor: account.balanceMinor,
          dueDate,
        });
        logger.info({ vendor: "twilio", attemptId: call.attempt.id, promiseId: created.id, workflows: told }, "IVR promise to pay recorded");
        return;
      } catch (error) {
        if (attempt === 3) logger.warn({ err: error, attemptId: call.attempt.id, promiseId: created.id }, "IVR promise stored; the sweep tells its journeys");
        else await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  function forbidden(c: Context) {
    logger.warn({ vendor: "twilio", path: c.req.path }, "rejected a Twilio voice webhook with a missing or invalid signature");
    return problem(c, 403, "Forbidden", "missing or invalid X-Twilio-Signature");
  }

  return app;
}

/** The strategy template of the step an attempt belongs to, in the enrolment's variant: the call's greeting. */
function stepTemplateOf(campaign: Campaign, variant: string, stepId: string): string {
  type Steps = { id: string; template?: string }[];
  const plan = campaign.strategy as { variants?: { name: string; strategy?: { steps?: Steps } }[]; steps?: Steps };
  const variants = plan.variants ?? [];
  const steps = [
    ...(variants.find((v) => v.name === variant)?.strategy?.steps ?? []),
    ...(plan.steps ?? []),
    ...variants.flatMap((v) => v.strategy?.steps ?? []),
  ];
  return steps.find((s) => s.id === stepId && s.template)?.template ?? "reminder";
}

function twiml(c: Context, response: VoiceResponse): Response {
  return c.body(response.toString(), 200, { "Content-Type": "text/xml; charset=utf-8" });
}
