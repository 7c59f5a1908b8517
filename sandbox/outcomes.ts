/**
 * The outcome mix: defaults, how a partial mix replaces them, and the draws per channel.
 * Outcomes are listed in a fixed order so a draw never depends on the key order of the
 * object a caller passed.
 */
import type { Rng } from "./random.ts";
import type { EmailDeliveryOutcome, EmailEngagement, OutcomeMix, SmsOutcome, VoiceOutcome, WhatsappOutcome } from "./types.ts";

const SMS: readonly SmsOutcome[] = ["delivered", "undelivered", "failed"];
const WHATSAPP: readonly WhatsappOutcome[] = ["delivered", "read", "undelivered", "failed"];
const VOICE: readonly VoiceOutcome[] = ["completed", "no-answer", "busy", "failed", "machine"];
const EMAIL: readonly EmailDeliveryOutcome[] = ["delivered", "bounce", "dropped", "deferred"];
const ENGAGEMENT: readonly EmailEngagement[] = ["open", "click", "unsubscribe", "spamreport"];

/** Roughly what a collections campaign sees; tests pass their own. */
export const DEFAULT_OUTCOMES: OutcomeMix = {
  sms: { delivered: 90, undelivered: 7, failed: 3 },
  whatsapp: { read: 60, delivered: 30, undelivered: 7, failed: 3 },
  voice: { completed: 45, "no-answer": 30, busy: 10, failed: 5, machine: 10, digits: [] },
  email: {
    delivered: 92,
    bounce: 4,
    dropped: 2,
    deferred: 2,
    open: 0.4,
    click: 0.1,
    unsubscribe: 0.01,
    spamreport: 0,
  },
};

/** A channel given in `update` replaces that channel of `base`. Throws on a bad weight. */
export function mergeOutcomes(base: OutcomeMix, update: Partial<OutcomeMix> = {}): OutcomeMix {
  const merged: OutcomeMix = { ...base, ...stripUndefined(update) };
  check("sms", merged.sms, SMS);
  check("whatsapp", merged.whatsapp, WHATSAPP);
  check("voice", merged.voice, VOICE);
  check("email", merged.email, EMAIL);
  for (const key of ENGAGEMENT) {
    const p = merged.email[key] ?? 0;
    if (!(p >= 0 && p <= 1)) throw new Error(`outcomes.email.${key} must be a probability in [0, 1]`);
  }
  for (const channel of ["sms", "whatsapp"] as const) {
    const { reply, replyTexts } = merged[channel];
    probability(`${channel}.reply`, reply);
    if (replyTexts !== undefined && !(Array.isArray(replyTexts) && replyTexts.length > 0 && replyTexts.every((t) => typeof t === "string" && t.length > 0))) {
      throw new Error(`outcomes.${channel}.replyTexts must be a list of texts`);
    }
  }
  probability("payments.after", merged.payments?.after);
  probability("payments.full", merged.payments?.full);
  const digits = merged.voice.digits ?? [];
  if (!digits.every((d) => /^[0-9*#w]*$/.test(d))) {
    throw new Error("outcomes.voice.digits entries may hold only 0-9, *, # and w");
  }
  return merged;
}

export const drawSms = (rng: Rng, mix: OutcomeMix): SmsOutcome => rng.pick(weights(mix.sms, SMS));
export const drawWhatsapp = (rng: Rng, mix: OutcomeMix): WhatsappOutcome => rng.pick(weights(mix.whatsapp, WHATSAPP));
export const drawVoice = (rng: Rng, mix: OutcomeMix): VoiceOutcome => rng.pick(weights(mix.voice, VOICE));
export const drawEmail = (rng: Rng, mix: OutcomeMix): EmailDeliveryOutcome => rng.pick(weights(mix.email, EMAIL));

/** The engagement events a delivered recipient produces, in the order they happen. */
export function drawEngagement(rng: Rng, mix: OutcomeMix): EmailEngagement[] {
  const drawn = ENGAGEMENT.filter((key) => rng.chance(mix.email[key] ?? 0));
  if (drawn.includes("click") && !drawn.includes("open")) drawn.unshift("open");
  return drawn;
}

/** The debtor's reply to a delivered text, if the mix draws one. Draws nothing when replies are off, so other draws stay as they were. */
export function drawReply(rng: Rng, mix: OutcomeMix, channel: "sms" | "whatsapp"): string | undefined {
  const { reply = 0, replyTexts = ["PAID"] } = mix[channel];
  if (!rng.chance(reply)) return undefined;
  return rng.pick(replyTexts.map((text) => [text, 1] as const));
}

/** Whether the debtor pays after a contact that reached them, and how much of the balance. */
export function drawPayment(rng: Rng, mix: OutcomeMix): "full" | "half" | undefined {
  const { after = 0, full = 1 } = mix.payments ?? {};
  if (!rng.chance(after)) return undefined;
  return rng.chance(full) ? "full" : "half";
}

function probability(key: string, p: number | undefined): void {
  if (p !== undefined && !(typeof p === "number" && p >= 0 && p <= 1)) throw new Error(`outcomes.${key} must be a probability in [0, 1]`);
}

function weights<T extends string>(mix: Partial<Record<T, number>>, order: readonly T[]): [T, number][] {
  return order.map((key) => [key, mix[key] ?? 0]);
}

function check<T extends string>(channel: string, mix: Partial<Record<T, number>>, order: readonly T[]): void {
  let total = 0;
  for (const key of order) {
    const w = mix[key] ?? 0;
    if (!(Number.isFinite(w) && w >= 0)) throw new Error(`outcomes.${channel}.${key} must be a weight >= 0`);
    total += w;
  }
  if (total <= 0) throw new Error(`outcomes.${channel} needs at least one positive weight`);
}

function stripUndefined(update: Partial<OutcomeMix>): Partial<OutcomeMix> {
  return Object.fromEntries(Object.entries(update).filter(([, v]) => v !== undefined));
}
