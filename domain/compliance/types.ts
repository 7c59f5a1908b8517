import type { Channel } from "../channel.ts";

// ---------------------------------------------------------------------------------------
// Gate input and output
// ---------------------------------------------------------------------------------------

/** Account-level holds; any one of them blocks every channel. */
export const HOLDS = ["dispute", "cease-communication", "bankruptcy", "deceased", "attorney-represented"] as const;
export type Hold = (typeof HOLDS)[number];

export type RuleId = "contact-hours" | "contact-days" | "holiday" | "frequency-cap" | "cool-off" | "opt-out" | "consent" | "hold";

/**
 * One contact that already happened. Each contact is one entry: a call that reached the
 * debtor is recorded once, as a `conversation`, not as an attempt plus a conversation.
 */
export interface ContactHistoryEntry {
  channel: Channel;
  /** ISO-8601 instant with an offset or `Z`. */
  at: string;
  kind: "attempt" | "conversation";
}

export interface GateInput {
  /** "US", "US-MA", "US-WA", "IN", "ID", "KE", "SG", "GB". */
  jurisdiction: string;
  /** One IANA zone, several possible zones, or absent (= all of the jurisdiction's zones). */
  timeZone?: string | string[];
  channel: Channel;
  /** ISO-8601 instant (with an offset or `Z`) of the candidate contact. */
  at: string;
  /** Past attempts/conversations of this debtor across all campaigns. */
  history?: ContactHistoryEntry[];
  optOuts?: Channel[];
  /** Absent or false means not given. */
  consent?: { whatsapp?: boolean; autodialedCalls?: boolean };
  holds?: Hold[];
  /** Selects a product variant of the policy, e.g. "microfinance" in India. */
  product?: string;
}

export interface GateReason {
  rule: RuleId;
  detail: string;
}

export interface GateDecision {
  allowed: boolean;
  reasons: GateReason[];
  /** Earliest instant at or after `at` at which every rule passes, or null when none can. */
  nextAllowedAt: string | null;
  /**
   * Set when `nextAllowedAt` is null only because the search reached a date no shipped
   * holiday calendar covers: unknown rather than never, so ask again once it ships.
   */
  uncalendared?: true;
  policy: { jurisdiction: string; version: string };
}

// ---------------------------------------------------------------------------------------
// Policies (data, one file per jurisdiction under ./policies)
// ---------------------------------------------------------------------------------------

/** "law" rows come from a regulation; "house" rows are our conservative defaults. */
export type RuleKind = "law" | "house";

export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

/** Local clock window "HH:mm"; the start is allowed, the end is not. */
export interface ContactWindow {
  start: string;
  end: string;
  kind: RuleKind;
  source: string;
}

export type ChannelWindows = Record<Channel, ContactWindow>;

export interface ContactDays {
  weekdays: Weekday[];
  kind: RuleKind;
  source: string;
}

export interface HolidayRule {
  /** Key of a calendar in ./holidays (e.g. "ID"). */
  calendar: string;
  kind: RuleKind;
  source: string;
}

/**
 * At most `max` contacts on `channels` over the local calendar dates D−(days−1) … D, D
 * being the candidate's local date. Both attempts and conversations count (each history
 * entry is one contact), and every entry dated in that range counts, even one recorded
 * later on day D than the candidate instant.
 */
export interface FrequencyCap {
  channels: Channel[];
  max: number;
  days: number;
  kind: RuleKind;
  source: string;
}

/**
 * After a conversation on one of `channels`, none of `channels` may be used for `days`
 * local dates, the conversation's date being day 1 (so contact resumes on day days+1).
 */
export interface CoolOff {
  channels: Channel[];
  days: number;
  afterKind: "conversation";
  kind: RuleKind;
  source: string;
}

export type ConsentKey = "whatsapp" | "autodialedCalls";

export interface ConsentRequirement {
  channel: Channel;
  consent: ConsentKey;
  source: string;
}

/** A country's complete rule set. */
export interface Policy {
  jurisdiction: string;
  version: string;
  /** The jurisdiction's IANA zones; all of them apply when the debtor's zone is unknown. */
  timeZones: string[];
  windows: ChannelWindows;
  /** Product variants of the windows, e.g. { microfinance: ... } in India. */
  productWindows?: Record<string, ChannelWindows>;
  contactDays: ContactDays;
  holidays: HolidayRule | null;
  frequencyCaps: FrequencyCap[];
  coolOffs: CoolOff[];
  consent: ConsentRequirement[];
  sources: string[];
}

/** A state's additional rules; they apply on top of its country's policy. */
export interface StatePolicy {
  jurisdiction: string;
  version: string;
  country: string;
  timeZones: string[];
  frequencyCaps: FrequencyCap[];
  sources: string[];
}

// ---------------------------------------------------------------------------------------
// Holiday calendars (data under ./holidays)
// ---------------------------------------------------------------------------------------

export interface Holiday {
  /** Local calendar date, "yyyy-MM-dd". */
  date: string;
  name: string;
  /** "collective-leave": Indonesian cuti bersama; "in-lieu": replaces a holiday on a Sunday. */
  type: "public-holiday" | "collective-leave" | "in-lieu";
  /** "provisional": not yet in an official list (estimated or statutory date). */
  status: "published" | "provisional";
}

export interface HolidayCalendar {
  id: string;
  /** Years this calendar is complete for; dates outside them cannot be checked. */
  years: number[];
  sources: string[];
  holidays: Holiday[];
}
