// The callback benchmark's traffic, computed the same way by the benchmark (to seed and
// check the database) and by the load generator (to fire it): deterministic message SIDs
// and a seeded order of status callbacks with duplicates and out-of-order pairs.
import { createHash } from "node:crypto";

export type MessageStatus = "sent" | "delivered";

export interface PlannedCallback {
  /** Index of the contact attempt inside its batch. */
  attempt: number;
  sid: string;
  status: MessageStatus;
  /** A second delivery of an event already in the plan (Twilio retries, at-least-once). */
  duplicate: boolean;
  /** Belongs to an attempt whose `delivered` is planned before its `sent`. */
  outOfOrder: boolean;
}

export interface PlanOptions {
  /** Distinguishes batches (the warm-up's attempts from the measured ones); part of every SID. */
  prefix: string;
  attempts: number;
  seed: number;
  /** Extra deliveries, as a share of all distinct events. */
  duplicateShare?: number;
  /** Attempts whose `delivered` comes before their `sent`. */
  outOfOrderShare?: number;
}

export const DUPLICATE_SHARE = 0.1;
export const OUT_OF_ORDER_SHARE = 0.05;
/** Requests per attempt: `sent`, `delivered`, and the duplicates. */
export const REQUESTS_PER_ATTEMPT = 2 * (1 + DUPLICATE_SHARE);

/**
 * A Twilio message SID (`SM` + 32 hex digits) for attempt `i` of a batch; the seeding SQL
 * builds the same one with `'SM' || md5(prefix || ':' || i)`.
 */
export function messageSid(prefix: string, i: number): string {
  return `SM${createHash("md5").update(`${prefix}:${i}`).digest("hex")}`;
}

export const eventId = (c: Pick<PlannedCallback, "sid" | "status">) => `${c.sid}:${c.status}`;

/**
 * Every attempt gets `sent` and then, 20–200 attempts later (≈ 20–200 ms at 2,000 callbacks/s),
 * `delivered`; for `outOfOrderShare` of them the two are swapped. Duplicates of random events
 * follow their original either at once (a third of them, so both copies are in flight
 * together) or up to ≈ 2 s later.
 */
export function buildPlan(options: PlanOptions): PlannedCallback[] {
  const { prefix, attempts, seed } = options;
  const duplicateShare = options.duplicateShare ?? DUPLICATE_SHARE;
  const outOfOrderShare = options.outOfOrderShare ?? OUT_OF_ORDER_SHARE;
  const random = mulberry32(seed);
  const keyed: { key: number; callback: PlannedCallback }[] = [];
  for (let i = 0; i < attempts; i++) {
    const sid = messageSid(prefix, i);
    const outOfOrder = random() < outOfOrderShare;
    const early = i + random() * 0.5;
    const late = i + 20 + random() * 180;
    keyed.push({ key: outOfOrder ? late : early, callback: { attempt: i, sid, status: "sent", duplicate: false, outOfOrder } });
    keyed.push({ key: outOfOrder ? early : late, callback: { attempt: i, sid, status: "delivered", duplicate: false, outOfOrder } });
  }
  const originals = keyed.length;
  const duplicates = Math.round(originals * duplicateShare);
  for (let d = 0; d < duplicates; d++) {
    const original = keyed[Math.floor(random() * originals)]!;
    const delay = random() < 1 / 3 ? random() * 0.2 : random() * 2000;
    keyed.push({ key: original.key + delay, callback: { ...original.callback, duplicate: true } });
  }
  return keyed.sort((a, b) => a.key - b.key).map((k) => k.callback);
}

/** A small seeded PRNG, so a run's traffic can be replayed exactly. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
