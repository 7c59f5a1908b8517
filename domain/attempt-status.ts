/**
 * Lifecycle of a contact attempt as vendors report it. Statuses only move forward:
 * a callback whose rank is not above the stored one is kept as a raw event but does not
 * change the attempt (a late "sent" never overwrites "delivered").
 * A Map, not an object: statuses are vendor text, and "__proto__" or "toString" must be
 * unknown statuses rather than what an object inherits.
 */
const RANK = new Map<string, number>([
  ["pending", 0], // reserved by the compliance gate, before the vendor call
  ["dispatching", 0], // the vendor call may have happened; a retry asks the vendor first
  ["accepted", 1],
  ["scheduled", 1],
  ["queued", 2],
  ["sending", 3],
  ["sent", 4],
  // Terminal outcomes share a rank: whichever the vendor reports first stands.
  ["delivered", 5],
  ["undelivered", 5],
  ["failed", 5],
  ["canceled", 5],
  ["read", 6],
]);

export type AttemptOutcome = "delivered" | "failed";

/**
 * The status's rank, or -1 for a status we do not know.
 * @example statusRank("delivered") // 5
 */
export function statusRank(status: string): number {
  return RANK.get(status) ?? -1;
}

/** @example isKnownStatus("sent") // true */
export function isKnownStatus(status: string): boolean {
  return RANK.has(status);
}

/**
 * The outcome a workflow reacts to, or undefined while the attempt is still in flight.
 * @example outcomeOf("undelivered") // "failed"
 */
export function outcomeOf(status: string): AttemptOutcome | undefined {
  if (status === "delivered" || status === "read") return "delivered";
  if (status === "undelivered" || status === "failed" || status === "canceled") return "failed";
  return undefined;
}
