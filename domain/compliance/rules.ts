/**
 * One small function per rule kind, over plain data. Standing rules (hold, opt-out,
 * consent) do not depend on time; timed rules look at an instant through the local
 * calendar and clock of every possible zone and report one reason per failing zone.
 */
import type { Channel } from "../channel.ts";
import { lookUpHoliday } from "./holidays/index.ts";
import { formatClock, formatDay, parseClock, weekdayOf, type LocalView } from "./time.ts";
import type { ContactWindow, GateInput, GateReason, Policy } from "./types.ts";

/** A past contact with its local date (day number) in each possible zone. */
export interface DatedContact {
  channel: Channel;
  kind: "attempt" | "conversation";
  localDays: ReadonlyMap<string, number>;
}

/** Everything the timed rules need, prepared once per gate call. */
export interface Evaluation {
  policy: Policy;
  zones: string[];
  channel: Channel;
  window: ContactWindow;
  history: DatedContact[];
}

/** A timed rule failing in one zone; `view` is the instant as seen there. */
export interface Failure extends GateReason {
  view: LocalView;
  /** The date is after the shipped holiday calendars: no later date can be known to pass. */
  uncalendared?: true;
}

/** A timed rule, given the instant as seen in each possible zone. */
export type TimedRule = (evaluation: Evaluation, views: LocalView[]) => Failure[];

// --- standing rules --------------------------------------------------------------------

export function holdRule(input: GateInput): GateReason[] {
  const holds = input.holds ?? [];
  if (holds.length === 0) return [];
  return [{ rule: "hold", detail: `account on hold (${holds.join(", ")}): every channel is blocked` }];
}

export function optOutRule(input: GateInput): GateReason[] {
  if (!(input.optOuts ?? []).includes(input.channel)) return [];
  return [{ rule: "opt-out", detail: `the debtor opted out of ${input.channel}` }];
}

export function consentRule(input: GateInput, policy: Policy): GateReason[] {
  return policy.consent
    .filter((req) => req.channel === input.channel && input.consent?.[req.consent] !== true)
    .map((req) => ({
      rule: "consent",
      detail: `${req.channel} needs the debtor's consent (${req.consent}), which is not on record (${req.source})`,
    }));
}

// --- timed rules -----------------------------------------------------------------------

export const contactHoursRule: TimedRule = ({ window }, views) => {
  const start = parseClock(window.start).seconds;
  const end = parseClock(window.end).seconds;
  return views
    .filter(({ clock }) => clock < start || clock >= end)
    .map((view) => ({
      rule: "contact-hours",
      detail: `${formatClock(view.local)} in ${view.zone} is outside ${window.start}–${window.end} (${window.source})`,
      view,
    }));
};

export const contactDaysRule: TimedRule = ({ policy }, views) => {
  const { weekdays, source } = policy.contactDays;
  return views
    .filter(({ local }) => !weekdays.includes(weekdayOf(local)))
    .map((view) => ({
      rule: "contact-days",
      detail: `${view.local.toFormat("cccc yyyy-MM-dd")} in ${view.zone} is not a contact day (${weekdays.join(", ")}; ${source})`,
      view,
    }));
};

export const holidayRule: TimedRule = ({ policy }, views) => {
  const rule = policy.holidays;
  if (rule === null) return [];
  return views.flatMap((view) => {
    const date = formatDay(view.day);
    const lookup = lookUpHoliday(rule.calendar, date);
    if (!lookup.covered) {
      const detail = `no ${rule.calendar} holiday calendar for ${date.slice(0, 4)}: ${date} in ${view.zone} cannot be checked, so it is blocked (${rule.source})`;
      // A date before the calendars passes in time (the next day is asked again); one after
      // them only leads to later dates no calendar covers either.
      return [{ rule: "holiday", detail, view, ...(lookup.before ? {} : { uncalendared: true as const }) }];
    }
    if (lookup.holiday === null) return [];
    return [
      {
        rule: "holiday",
        detail: `${date} in ${view.zone} is a holiday: ${lookup.holiday.name} (${rule.source})`,
        view,
      },
    ];
  });
};

/** Counts the contacts on the local dates D−(days−1) … D; both attempts and conversations count. */
export const frequencyCapRule: TimedRule = ({ policy, channel, history }, views) =>
  policy.frequencyCaps
    .filter((cap) => cap.channels.includes(channel))
    .flatMap((cap) =>
      views.flatMap((view) => {
        const { zone, day } = view;
        const first = day - (cap.days - 1);
        const count = history.filter((c) => cap.channels.includes(c.channel) && isBetween(c.localDays.get(zone), first, day)).length;
        if (count < cap.max) return [];
        const dates = cap.days === 1 ? formatDay(day) : `${formatDay(first)}…${formatDay(day)}`;
        const per = cap.days === 1 ? "day" : `${cap.days} days`;
        const detail = `${cap.channels.join("/")} contacts on ${dates} in ${zone}: ${count}, limit ${cap.max} per ${per} (${cap.source})`;
        return [{ rule: "frequency-cap", detail, view }];
      }),
    );

/** Blocks the conversation's local date (day 1) through day `days`. */
export const coolOffRule: TimedRule = ({ policy, channel, history }, views) =>
  policy.coolOffs
    .filter((coolOff) => coolOff.channels.includes(channel))
    .flatMap((coolOff) =>
      views.flatMap((view) => {
        const { zone, day } = view;
        const first = day - (coolOff.days - 1);
        const days = history
          .filter((c) => c.kind === coolOff.afterKind && coolOff.channels.includes(c.channel))
          .map((c) => c.localDays.get(zone))
          .filter((d): d is number => isBetween(d, first, day));
        if (days.length === 0) return [];
        const latest = Math.max(...days);
        const detail = `${coolOff.afterKind} on ${formatDay(latest)} in ${zone}: no ${coolOff.channels.join("/")} until ${formatDay(latest + coolOff.days)} (${coolOff.days} days, the ${coolOff.afterKind}'s date is day 1; ${coolOff.source})`;
        return [{ rule: "cool-off", detail, view }];
      }),
    );

export const TIMED_RULES: readonly TimedRule[] = [contactHoursRule, contactDaysRule, holidayRule, frequencyCapRule, coolOffRule];

function isBetween(day: number | undefined, first: number, last: number): boolean {
  return day !== undefined && day >= first && day <= last;
}
