import type twilio from "twilio";
import type { Account, Campaign } from "../../generated/prisma/client.ts";
import type VoiceResponse from "twilio/lib/twiml/VoiceResponse.js";
import type { Database } from "../../runtime/database.ts";
import { applyPendingCallStatuses } from "../../store/voice.ts";
import { campaignTemplates, renderTemplate, resolveTemplate } from "../../templates/render.ts";
import { classifyTwilioError, NotSentError } from "../vendor-errors.ts";
import type { ChannelSender } from "./types.ts";

/** Where Twilio asks for an attempt's call script (TwiML), relative to PUBLIC_BASE_URL. */
export const voiceTwimlPath = (attemptId: string) => `/v1/webhooks/twilio/voice/attempts/${attemptId}`;
export const VOICE_STATUS_PATH = "/v1/webhooks/twilio/voice/status";
export const VOICE_STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"] as const;

type SayLanguage = NonNullable<VoiceResponse.SayAttributes["language"]>;

// Languages Twilio's <Say> speaks that we ship IVR scripts in; other debtors hear English.
const SPOKEN: Record<string, SayLanguage> = { en: "en-US", id: "id-ID", hi: "hi-IN" };
const SAY_LANGUAGES = new Set<string>(["en-AU", "en-CA", "en-GB", "en-IE", "en-IN", "en-NZ", "en-US", "en-ZA", "id-ID", "hi-IN"]);

export interface Speech {
  /** Locale the script is looked up in. */
  textLocale: string;
  /** Locale money and dates are written in (the debtor's, or English in their region). */
  formatLocale: string;
  language: SayLanguage;
}

/**
 * How the IVR talks to a debtor: in their language when Twilio speaks it and we ship a
 * script for it, else in English with their region's accent where Twilio has one.
 * @example speechFor("sw-KE") // { textLocale: "en", formatLocale: "en-KE", language: "en-US" }
 */
export function speechFor(locale: string): Speech {
  const [lang = "en", region] = locale.split("-");
  const language = lang.toLowerCase();
  const regional = (l: string) => (region ? `${l}-${region.toUpperCase()}` : l);
  if (language in SPOKEN) {
    const candidate = regional(language);
    return { textLocale: locale, formatLocale: locale, language: SAY_LANGUAGES.has(candidate) ? (candidate as SayLanguage) : SPOKEN[language]! };
  }
  const english = regional("en");
  return { textLocale: "en", formatLocale: english, language: SAY_LANGUAGES.has(english) ? (english as SayLanguage) : "en-US" };
}

/**
 * Automated IVR calls through Twilio's Calls API. Twilio fetches the script from our TwiML
 * endpoint for the attempt (answering-machine detection tells it a person from a machine
 * first) and reports progress to the voice status webhook.
 * @example createVoiceSender({ db, twilio, from: "+15005550006", publicBaseUrl: "https://tagih.example.com" })
 */
export function createVoiceSender(deps: { db: Database; twilio: twilio.Twilio; from: string; publicBaseUrl: string }): ChannelSender {
  const { db, twilio, from, publicBaseUrl } = deps;
  return {
    vendor: "twilio",
    classify: classifyTwilioError,
    applyPending: (sid) => applyPendingCallStatuses(db, sid),
    async send({ attemptId, account, campaign, template, mayHaveSent, since }) {
      if (!account.phone) throw new NotSentError("no-phone", `account ${account.id} has no phone number`);
      await checkGreeting(template, account, campaign);
      const url = `${publicBaseUrl}${voiceTwimlPath(attemptId)}`;
      if (mayHaveSent) {
        const found = await findPlacedCall(db, twilio, { attemptId, to: account.phone, from, since });
        if (found) return found;
      }
      const call = await twilio.calls.create({
        to: account.phone,
        from,
        url,
        method: "POST",
        machineDetection: "DetectMessageEnd",
        statusCallback: `${publicBaseUrl}${VOICE_STATUS_PATH}`,
        statusCallbackMethod: "POST",
        statusCallbackEvent: [...VOICE_STATUS_EVENTS],
      });
      return { vendorId: call.sid, status: call.status ?? "queued" };
    },
  };
}

/**
 * The greeting must exist and render before a debtor's phone rings: a broken script would
 * otherwise fail mid-call. A failure here is permanent (no retry; the step falls back).
 */
async function checkGreeting(template: string, account: Account, campaign: Campaign): Promise<void> {
  const speech = speechFor(account.locale);
  try {
    const { body } = await resolveTemplate(template, "voice", speech.textLocale, campaignTemplates(campaign));
    renderTemplate(body, {
      name: account.name,
      firstName: account.name,
      amountDue: account.balanceMinor,
      currency: account.currency,
      dueDate: account.dueDate,
      locale: speech.formatLocale,
      timeZone: account.timeZone,
      creditor: "",
    });
  } catch (error) {
    throw new NotSentError("voice-template-error", `voice template "${template}" cannot be spoken: ${(error as Error).message}`);
  }
}

/**
 * A call a previous try may have placed: Twilio has no idempotency key, so look first for a
 * TwiML request naming this attempt, then in the account's call log for a call from us to
 * this number since the try started that no other attempt claims.
 */
async function findPlacedCall(
  db: Database,
  client: twilio.Twilio,
  { attemptId, to, from, since }: { attemptId: string; to: string; from: string; since: Date },
): Promise<{ vendorId: string; status: string } | undefined> {
  const asked = await db.$queryRaw<{ call_sid: string }[]>`
    SELECT payload ->> 'CallSid' AS call_sid FROM callbacks
     WHERE vendor = 'twilio' AND kind = 'voice-url' AND payload ->> 'AttemptId' = ${attemptId}
     LIMIT 1`;
  if (asked[0]) return { vendorId: asked[0].call_sid, status: "in-progress" };
  let calls: Awaited<ReturnType<typeof client.calls.list>>;
  try {
    calls = await client.calls.list({ to, from, limit: 50 });
  } catch (error) {
    // A Twilio-compatible API without the call log cannot tell us: place the call.
    // Transient errors are thrown and retried.
    if (classifyTwilioError(error).transient) throw error;
    return undefined;
  }
  for (const call of calls) {
    if (call.dateCreated < new Date(since.getTime() - 60_000)) continue;
    const claimed = await db.contactAttempt.findUnique({ where: { vendor_vendorId: { vendor: "twilio", vendorId: call.sid } }, select: { id: true } });
    if (!claimed) return { vendorId: call.sid, status: call.status };
  }
  return undefined;
}
