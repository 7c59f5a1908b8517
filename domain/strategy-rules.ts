import { DateTime } from "luxon";
import type { Condition, Strategy } from "./strategy.ts";

/** What a branch can look at: the account's state as the workflow knows it. */
export interface AccountFacts {
  paid: boolean;
  promised: boolean;
  balanceMinor: string;
  daysPastDue: number;
  lastOutcome: string | null;
}

/**
 * Whether a branch condition holds.
 * @example conditionHolds({ balanceAtLeast: "100000" }, { ...facts, balanceMinor: "150000" }) // true
 */
export function conditionHolds(condition: Condition, facts: AccountFacts): boolean {
  if ("paid" in condition) return facts.paid;
  if ("promised" in condition) return facts.promised;
  if ("balanceAtLeast" in condition) return BigInt(facts.balanceMinor) >= BigInt(condition.balanceAtLeast);
  if ("daysPastDue" in condition) {
    const { min = 0, max = Number.MAX_SAFE_INTEGER } = condition.daysPastDue;
    return facts.daysPastDue >= min && facts.daysPastDue <= max;
  }
  return facts.lastOutcome === condition.lastOutcome;
}

/** @example stepIndex(strategy, "second-sms") // 1 */
export function stepIndex(strategy: Strategy, id: string): number {
  const index = strategy.steps.findIndex((s) => s.id === id);
  if (index < 0) throw new Error(`strategy has no step ${id}`);
  return index;
}

/**
 * The next instant the debtor's local clock shows `hhmm` (strictly after `now`).
 * @example nextLocalTime("09:00", "Asia/Jakarta", Date.parse("2026-12-07T03:00:00Z")) // 2026-12-08T02:00:00Z in ms
 */
export function nextLocalTime(hhmm: string, zone: string, now: number): number {
  const [hour, minute] = hhmm.split(":").map(Number) as [number, number];
  const local = DateTime.fromMillis(now, { zone });
  let target = local.set({ hour, minute, second: 0, millisecond: 0 });
  if (target.toMillis() <= now) target = target.plus({ days: 1 }).set({ hour, minute });
  return target.toMillis();
}

/** Days from the promise's due date plus grace, as the instant it counts as broken (end of that local day, UTC). */
export function promiseBrokenAt(dueDate: string, graceDays: number): number {
  return DateTime.fromISO(dueDate, { zone: "UTC" })
    .plus({ days: graceDays + 1 })
    .toMillis();
}
