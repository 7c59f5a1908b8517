/**
 * The compliance gate: may this debtor be contacted on this channel at this instant, and
 * if not, why not and when at the earliest?
 *
 * How `nextAllowedAt` is found. Standing rules (hold, opt-out, consent) do not change with
 * time: if one fails, no instant can pass and the answer is null. Every timed rule, with
 * the history held fixed, sees the instant only through each possible zone's local date
 * (contact days, holidays, caps, cool-offs) and local clock (contact hours). So a rule
 * failing in a zone keeps failing until that zone's next local midnight (date rules) or
 * next window start (hours) — its "lift time". Nothing before the latest lift time of the
 * failing rules can pass, and that lift time is a local midnight or window start, where
 * an allowed interval can begin. The search jumps there, evaluates again, and repeats:
 * the first instant with no failure is the earliest allowed one. This assumes no DST
 * change inside a contact window, which holds for every zone served (clocks change at
 * night). The search gives up, answering null, beyond HORIZON_DAYS, or on a date beyond the
 * shipped holiday calendars (fail-closed), which it then names among the reasons.
 */
import type { DateTime } from "luxon";
import { policyFor } from "./policies/index.ts";
import { consentRule, holdRule, optOutRule, TIMED_RULES, type Evaluation, type Failure } from "./rules.ts";
import { assertZone, formatInstant, parseClock, parseInstant, viewIn } from "./time.ts";
import type { ChannelWindows, GateDecision, GateInput, GateReason, Policy } from "./types.ts";

/** How far ahead the search for `nextAllowedAt` looks. */
export const HORIZON_DAYS = 400;

/**
 * Evaluates a candidate contact under its jurisdiction's policy.
 *
 * @example
 * evaluateContact({ jurisdiction: "US", timeZone: "America/New_York", channel: "email", at: "2026-12-07T02:30:00Z" })
 * // { allowed: false, reasons: [{ rule: "contact-hours", detail: "21:30 in America/New_York is outside 08:00–21:00 (12 CFR 1006.6(b)(1)(i))" }],
 * //   nextAllowedAt: "2026-12-07T13:00:00Z", policy: { jurisdiction: "US", version: "2026-11-01" } }
 * @throws UnknownJurisdictionError, InvalidGateInputError
 */
export function evaluateContact(input: GateInput): GateDecision {
  return evaluateContactUnder(policyFor(input.jurisdiction), input);
}

/** Like `evaluateContact`, under an explicitly given policy (its jurisdiction code is not looked up). */
export function evaluateContactUnder(policy: Policy, input: GateInput): GateDecision {
  const at = parseInstant("at", input.at);
  const evaluation = prepare(policy, input);
  const standing = [...holdRule(input), ...optOutRule(input), ...consentRule(input, policy)];
  const failures = failuresAt(evaluation, at);
  const reasons: GateReason[] = [...standing, ...failures.map(({ rule, detail }) => ({ rule, detail }))];
  const { next, uncalendared } = standing.length > 0 ? { next: null } : earliestPassing(evaluation, at, failures);
  // The search ran into a year without a holiday calendar: that is why nothing can be allowed.
  if (uncalendared && !reasons.some((r) => r.detail === uncalendared.detail)) reasons.push({ rule: uncalendared.rule, detail: uncalendared.detail });
  return {
    allowed: reasons.length === 0,
    reasons,
    nextAllowedAt: next === null ? null : formatInstant(next),
    ...(uncalendared ? { uncalendared: true as const } : {}),
    policy: { jurisdiction: policy.jurisdiction, version: policy.version },
  };
}

function prepare(policy: Policy, input: GateInput): Evaluation {
  const zones = possibleZones(policy, input.timeZone);
  const history = (input.history ?? []).map((entry, i) => {
    const at = parseInstant(`history[${i}].at`, entry.at);
    return { channel: entry.channel, kind: entry.kind, localDays: new Map(zones.map((z) => [z, viewIn(at, z).day])) };
  });
  return { policy, zones, channel: input.channel, window: windowsFor(policy, input.product)[input.channel], history };
}

/** The given zone(s), or all of the jurisdiction's zones when none is given. */
function possibleZones(policy: Policy, timeZone: GateInput["timeZone"]): string[] {
  const given = timeZone === undefined ? [] : [timeZone].flat();
  const zones = given.length > 0 ? [...new Set(given)] : policy.timeZones;
  zones.forEach(assertZone);
  return zones;
}

/** The product's variant of the windows if the policy has one, else the policy's windows. */
function windowsFor(policy: Policy, product: string | undefined): ChannelWindows {
  const variants = Object.entries(policy.productWindows ?? {});
  const key = productKey(product);
  return variants.find(([name]) => productKey(name) === key)?.[1] ?? policy.windows;
}

// Product names are ops' own: "Microfinance", "micro-finance" and "micro_finance " are one.
const productKey = (name: string | undefined) => name?.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");

function failuresAt(evaluation: Evaluation, instant: DateTime): Failure[] {
  const views = evaluation.zones.map((zone) => viewIn(instant, zone));
  return TIMED_RULES.flatMap((rule) => rule(evaluation, views));
}

/**
 * The earliest instant at or after `at` without failures, given the failures at `at`; none
 * beyond the horizon or past the holiday calendars (then the failure that stopped it).
 */
function earliestPassing(evaluation: Evaluation, at: DateTime, failuresAtStart: Failure[]): { next: DateTime | null; uncalendared?: Failure } {
  const horizon = at.plus({ days: HORIZON_DAYS });
  let t = at;
  for (let failures = failuresAtStart; failures.length > 0; failures = failuresAt(evaluation, t)) {
    const uncalendared = failures.find((f) => f.uncalendared);
    if (uncalendared) return { next: null, uncalendared };
    t = liftTimes(evaluation, failures).reduce((a, b) => (b > a ? b : a));
    if (t > horizon) return { next: null };
  }
  return { next: t };
}

/**
 * For each failure, the first instant at which it could pass in its zone: the next window
 * start for the hours rule, the next local midnight for the date rules. Computed once per
 * zone and kind, as several rules often fail in the same zone.
 */
function liftTimes({ window }: Evaluation, failures: Failure[]): DateTime[] {
  const { hour, minute, seconds } = parseClock(window.start);
  const byZoneAndKind = new Map<string, DateTime>();
  for (const { rule, view } of failures) {
    const key = `${view.zone} ${rule === "contact-hours"}`;
    if (byZoneAndKind.has(key)) continue;
    const today = view.local.startOf("day");
    const lift = rule !== "contact-hours" ? today.plus({ days: 1 }) : (view.clock < seconds ? today : today.plus({ days: 1 })).set({ hour, minute });
    byZoneAndKind.set(key, lift.toUTC());
  }
  return [...byZoneAndKind.values()];
}
