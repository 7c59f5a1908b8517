import { attributionSchema, DEFAULT_ATTRIBUTION, type Attribution } from "../attribution.ts";
import type { Channel } from "../channel.ts";

/** A campaign's attribution settings (campaigns.attribution, validated at create and update). */
export type AttributionSettings = Attribution;

/** The settings a report states: the campaign's, with defaults filled in, and the rules. */
export function attributionOf(stored: unknown): AttributionSettings & { model: string; multiTouch: string; promise: string; eligibleTouch: string } {
  // The rollup applies them in prisma/routines/mis.sql (`mis_window`, `mis_refresh_account`).
  const parsed = attributionSchema.safeParse(stored ?? {});
  return {
    ...(parsed.success ? parsed.data : DEFAULT_ATTRIBUTION),
    model: "last eligible touch within the channel's window",
    multiTouch: "linear: equal shares between every eligible touch whose window holds the payment",
    promise: "a payment after a promise goes to the touch that captured it, up to the due date plus the strategy's grace days",
    eligibleTouch: "a delivered SMS or WhatsApp, an opened or clicked email, a call answered with engagement",
  };
}

/** A contact attempt as attribution sees it. */
export interface Touch {
  attemptId: string;
  channel: Channel;
  /** When it was sent. */
  at: number;
  eligible: boolean;
}

/** A promise with the attempt that captured it. */
export interface CapturedPromise {
  attemptId: string | null;
  createdAt: number;
  /** Instant the promise breaks: due date plus grace, end of day. */
  brokenAt: number;
}

/**
 * The attempt a payment is credited to: the touch that captured a promise the payment falls
 * under (the latest such promise), else the last eligible touch whose window holds the
 * payment, else none (unattributed).
 * @example lastTouch(Date.parse("2026-01-03"), [{ attemptId: "a", channel: "sms", at: Date.parse("2026-01-01"), eligible: true }], [], settings) // "a"
 */
export function lastTouch(paidAt: number, touches: Touch[], promises: CapturedPromise[], settings: AttributionSettings): string | null {
  const promise = promises.filter((p) => p.attemptId !== null && p.createdAt <= paidAt && paidAt < p.brokenAt).sort((a, b) => b.createdAt - a.createdAt)[0];
  if (promise) return promise.attemptId;
  return windowHolders(paidAt, touches, settings).sort((a, b) => b.at - a.at || (a.attemptId < b.attemptId ? 1 : -1))[0]?.attemptId ?? null;
}

/**
 * The linear view: equal shares of the payment between every eligible touch whose window
 * holds it (and the promise-capturing touch, when the last-touch rule chose it).
 * @example linearShares(100, paidAt, touches, [], settings) // Map { "a" => 50, "b" => 50 }
 */
export function linearShares(
  amount: number,
  paidAt: number,
  touches: Touch[],
  promises: CapturedPromise[],
  settings: AttributionSettings,
): Map<string, number> {
  const ids = new Set(windowHolders(paidAt, touches, settings).map((t) => t.attemptId));
  const last = lastTouch(paidAt, touches, promises, settings);
  if (last) ids.add(last);
  return new Map([...ids].map((id) => [id, amount / ids.size]));
}

const DAY_MS = 86_400_000;

function windowHolders(paidAt: number, touches: Touch[], settings: AttributionSettings): Touch[] {
  return touches.filter((t) => t.eligible && t.at <= paidAt && paidAt < t.at + settings.windowDays[t.channel] * DAY_MS);
}
