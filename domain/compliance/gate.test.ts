import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { CHANNELS, type Channel } from "../channel.ts";
import { InvalidGateInputError, UnknownJurisdictionError } from "./errors.ts";
import { evaluateContact, evaluateContactUnder } from "./gate.ts";
import { lookUpHoliday } from "./holidays/index.ts";
import { JURISDICTIONS, policyFor } from "./policies/index.ts";
import type { ContactHistoryEntry, GateInput, RuleId } from "./types.ts";

// --- table helpers --------------------------------------------------------------------------

interface Expected {
  allowed: boolean;
  rules: RuleId[];
  next: string | null;
  /** Null only because a holiday calendar has not shipped: unknown rather than never. */
  uncalendared?: true;
}
type Row = [name: string, input: GateInput, expected: Expected];

/** Allowed at `at`, so the next allowed instant is `at` itself. */
const open = (at: string): Expected => ({ allowed: true, rules: [], next: at });
const blocked = (rules: RuleId[], next: string | null): Expected => ({ allowed: false, rules, next });
const uncalendared = (rules: RuleId[]): Expected => ({ allowed: false, rules, next: null, uncalendared: true });

const ask = (jurisdiction: string, channel: Channel, at: string, more: Partial<GateInput> = {}): GateInput => ({
  jurisdiction,
  channel,
  at,
  ...more,
});

const CONSENTED = { whatsapp: true, autodialedCalls: true };
const NY = "America/New_York";
const LA = "America/Los_Angeles";

const attempts = (channel: Channel, ...at: string[]): ContactHistoryEntry[] => at.map((a) => ({ channel, at: a, kind: "attempt" }));
const conversation = (channel: Channel, at: string): ContactHistoryEntry => ({ channel, at, kind: "conversation" });

/** A local wall-clock time in a zone, shifted by some seconds, as a UTC instant. */
const utc = (local: string, zone: string, plusSeconds = 0): string =>
  DateTime.fromISO(local, { zone }).plus({ seconds: plusSeconds }).toUTC().toISO({ suppressMilliseconds: true }) ?? "";

function check(_name: string, input: GateInput, expected: Expected): void {
  const decision = evaluateContact(input);
  const got = {
    allowed: decision.allowed,
    rules: [...new Set(decision.reasons.map((r) => r.rule))].sort(),
    next: decision.nextAllowedAt,
    ...(decision.uncalendared ? { uncalendared: decision.uncalendared } : {}),
  };
  expect(got).toEqual({ ...expected, rules: [...expected.rules].sort() });
}

// --- hours: start−1s, start, end−1s, end on Tuesday 2026-12-08 --------------------------------

const HOURS: [jurisdiction: string, zone: string | undefined, start: string, end: string][] = [
  ["US", NY, "08:00", "21:00"],
  ["US-MA", undefined, "08:00", "21:00"], // no zone: Massachusetts' own
  ["US-WA", LA, "08:00", "21:00"],
  ["IN", "Asia/Kolkata", "08:00", "19:00"],
  ["ID", "Asia/Jakarta", "08:00", "20:00"],
  ["KE", "Africa/Nairobi", "08:00", "20:00"],
  ["SG", "Asia/Singapore", "08:00", "21:00"],
  ["GB", "Europe/London", "08:00", "21:00"],
];

const hourRows: Row[] = HOURS.flatMap(([jurisdiction, timeZone, start, end]): Row[] => {
  const zone = timeZone ?? NY;
  const at = (time: string, plusSeconds = 0) => utc(`2026-12-08T${time}`, zone, plusSeconds);
  const input = (instant: string) => ask(jurisdiction, "email", instant, timeZone ? { timeZone } : {});
  return [
    [`${jurisdiction} 1s before ${start}`, input(at(start, -1)), blocked(["contact-hours"], at(start))],
    [`${jurisdiction} at ${start}`, input(at(start)), open(at(start))],
    [`${jurisdiction} 1s before ${end}`, input(at(end, -1)), open(at(end, -1))],
    [`${jurisdiction} at ${end}`, input(at(end)), blocked(["contact-hours"], utc(`2026-12-09T${start}`, zone))],
  ];
});

describe("contact hours (start inclusive, end exclusive)", () => {
  it.each(hourRows)("%s", check);
});

// The same boundaries spelled out in UTC, so the table above is not only checked against itself.
describe("contact hours in UTC", () => {
  it.each<Row>([
    ["US 07:59:59 EST", ask("US", "email", "2026-12-08T12:59:59Z", { timeZone: NY }), blocked(["contact-hours"], "2026-12-08T13:00:00Z")],
    ["IN 19:00 IST", ask("IN", "email", "2026-12-08T13:30:00Z"), blocked(["contact-hours"], "2026-12-09T02:30:00Z")],
    ["ID 20:00 WIB", ask("ID", "email", "2026-12-08T13:00:00Z", { timeZone: "Asia/Jakarta" }), blocked(["contact-hours"], "2026-12-09T01:00:00Z")],
    ["US-WA 20:59:59 PST", ask("US-WA", "email", "2026-12-09T04:59:59Z"), open("2026-12-09T04:59:59Z")],
    ["SG 07:59:59 given with an offset", ask("SG", "email", "2026-12-08T07:59:59+08:00"), blocked(["contact-hours"], "2026-12-08T00:00:00Z")],
    // Allowed now is `at` itself, never a moment before it.
    ["GB keeps milliseconds", ask("GB", "email", "2026-12-08T12:00:00.750Z"), open("2026-12-08T12:00:00.750Z")],
    ["US 07:59:59.999 EST", ask("US", "email", "2026-12-08T12:59:59.999Z", { timeZone: NY }), blocked(["contact-hours"], "2026-12-08T13:00:00Z")],
    ["IN 08:00 IST given as +0530 without seconds", ask("IN", "email", "2026-12-08T08:00+0530"), open("2026-12-08T02:30:00Z")],
    ["SG with a lower-case z", ask("SG", "email", "2026-12-08T02:00:00z"), open("2026-12-08T02:00:00Z")],
  ])("%s", check);
});

// --- weekdays -------------------------------------------------------------------------------

describe("contact days", () => {
  it.each<Row>([
    ["ID Sunday noon", ask("ID", "email", "2026-12-06T05:00:00Z", { timeZone: "Asia/Jakarta" }), blocked(["contact-days"], "2026-12-07T01:00:00Z")],
    ["KE Sunday noon", ask("KE", "email", "2026-12-06T09:00:00Z"), blocked(["contact-days"], "2026-12-07T05:00:00Z")],
    ["SG Sunday noon", ask("SG", "email", "2026-12-06T04:00:00Z"), blocked(["contact-days"], "2026-12-07T00:00:00Z")],
    ["ID Saturday noon", ask("ID", "email", "2026-12-05T05:00:00Z", { timeZone: "Asia/Jakarta" }), open("2026-12-05T05:00:00Z")],
    ["US Sunday", ask("US", "email", "2026-12-06T17:00:00Z", { timeZone: NY }), open("2026-12-06T17:00:00Z")],
    ["IN Sunday", ask("IN", "email", "2026-12-06T06:30:00Z"), open("2026-12-06T06:30:00Z")],
    ["GB Sunday", ask("GB", "email", "2026-12-06T12:00:00Z"), open("2026-12-06T12:00:00Z")],
  ])("%s", check);
});

// --- holidays -------------------------------------------------------------------------------

const id = (at: string) => ask("ID", "email", at, { timeZone: "Asia/Jakarta" });
const ke = (at: string) => ask("KE", "email", at);
const sg = (at: string) => ask("SG", "email", at);

describe("holidays", () => {
  it.each<Row>([
    ["ID Independence Day 2026", id("2026-08-17T05:00:00Z"), blocked(["holiday"], "2026-08-18T01:00:00Z")],
    ["ID Christmas 2026 (Friday), Saturday is open", id("2026-12-25T03:00:00Z"), blocked(["holiday"], "2026-12-26T01:00:00Z")],
    ["ID cuti bersama 24 Dec 2026", id("2026-12-24T03:00:00Z"), blocked(["holiday"], "2026-12-26T01:00:00Z")],
    ["ID Lebaran 2026: leave, Nyepi, leave, Idulfitri, leave", id("2026-03-18T03:00:00Z"), blocked(["holiday"], "2026-03-25T01:00:00Z")],
    ["ID the day after the Lebaran leave", id("2026-03-25T03:00:00Z"), open("2026-03-25T03:00:00Z")],
    ["ID Independence Day 2027", id("2027-08-17T05:00:00Z"), blocked(["holiday"], "2027-08-18T01:00:00Z")],
    ["ID Christmas 2027 (Saturday), then Sunday", id("2027-12-25T03:00:00Z"), blocked(["holiday"], "2027-12-27T01:00:00Z")],
    ["ID 2028 has no calendar yet: blocked, when unknown", id("2028-01-04T03:00:00Z"), uncalendared(["holiday"])],
    [
      "ID 2028 under a hold: never, whatever the calendar",
      ask("ID", "email", "2028-01-04T03:00:00Z", { timeZone: "Asia/Jakarta", holds: ["dispute"] }),
      blocked(["hold", "holiday"], null),
    ],
    // Only the hours fail now, but the next morning is in 2028: the reasons say why nothing can be allowed
    ["ID New Year's Eve 2027 at night, 2028 has no calendar", id("2027-12-31T14:00:00Z"), uncalendared(["contact-hours", "holiday"])],
    ["KE New Year's Eve 2027 at night", ke("2027-12-31T17:00:00Z"), uncalendared(["contact-hours", "holiday"])],
    // Before the calendars: blocked, but time passes into them (not "never")
    ["SG 2025 has no calendar: next after New Year 2026", sg("2025-12-31T02:00:00Z"), blocked(["holiday"], "2026-01-02T00:00:00Z")],
    ["KE 2025 has no calendar: next after New Year 2026", ke("2025-12-30T10:00:00Z"), blocked(["holiday"], "2026-01-02T05:00:00Z")],
    ["KE Jamhuri Day 2026 (Saturday), then Sunday", ke("2026-12-12T09:00:00Z"), blocked(["holiday"], "2026-12-14T05:00:00Z")],
    ["KE Christmas, Boxing Day 2026, then Sunday", ke("2026-12-25T09:00:00Z"), blocked(["holiday"], "2026-12-28T05:00:00Z")],
    ["KE Mashujaa Day 2027", ke("2027-10-20T09:00:00Z"), blocked(["holiday"], "2027-10-21T05:00:00Z")],
    ["KE Jamhuri Day 2027 observed on Monday", ke("2027-12-13T09:00:00Z"), blocked(["holiday"], "2027-12-14T05:00:00Z")],
    ["SG National Day 2026 in lieu (Monday)", sg("2026-08-10T04:00:00Z"), blocked(["holiday"], "2026-08-11T00:00:00Z")],
    ["SG Christmas 2026 (Friday)", sg("2026-12-25T04:00:00Z"), blocked(["holiday"], "2026-12-26T00:00:00Z")],
    ["SG Chinese New Year 2027 in lieu (Monday)", sg("2027-02-08T04:00:00Z"), blocked(["holiday"], "2027-02-09T00:00:00Z")],
    ["SG Christmas 2027 (Saturday), then Sunday", sg("2027-12-25T04:00:00Z"), blocked(["holiday"], "2027-12-27T00:00:00Z")],
    ["US has no holiday rule", ask("US", "email", "2026-12-25T15:00:00Z", { timeZone: NY }), open("2026-12-25T15:00:00Z")],
  ])("%s", check);
});

// --- daylight saving time -------------------------------------------------------------------

const us = (timeZone: string, at: string) => ask("US", "email", at, { timeZone });
const gb = (at: string) => ask("GB", "email", at);

describe("DST", () => {
  it.each<Row>([
    ["New York spring forward, 07:59:59 EDT", us(NY, "2026-03-08T11:59:59Z"), blocked(["contact-hours"], "2026-03-08T12:00:00Z")],
    ["New York spring forward, 08:00 EDT", us(NY, "2026-03-08T12:00:00Z"), open("2026-03-08T12:00:00Z")],
    ["New York spring forward, from 00:00 EST", us(NY, "2026-03-08T05:00:00Z"), blocked(["contact-hours"], "2026-03-08T12:00:00Z")],
    ["New York spring forward, 21:00 EDT", us(NY, "2026-03-09T01:00:00Z"), blocked(["contact-hours"], "2026-03-09T12:00:00Z")],
    ["Los Angeles spring forward, 01:00 PST", us(LA, "2026-03-08T09:00:00Z"), blocked(["contact-hours"], "2026-03-08T15:00:00Z")],
    ["New York fall back, 07:59:59 EST", us(NY, "2026-11-01T12:59:59Z"), blocked(["contact-hours"], "2026-11-01T13:00:00Z")],
    ["New York fall back, from 00:30 EDT", us(NY, "2026-11-01T04:30:00Z"), blocked(["contact-hours"], "2026-11-01T13:00:00Z")],
    ["Los Angeles fall back, 07:00 PST", us(LA, "2026-11-01T15:00:00Z"), blocked(["contact-hours"], "2026-11-01T16:00:00Z")],
    ["Los Angeles fall back, 08:00 PST", us(LA, "2026-11-01T16:00:00Z"), open("2026-11-01T16:00:00Z")],
    ["London BST starts, 07:59:59 BST", gb("2026-03-29T06:59:59Z"), blocked(["contact-hours"], "2026-03-29T07:00:00Z")],
    ["London BST starts, 08:00 BST", gb("2026-03-29T07:00:00Z"), open("2026-03-29T07:00:00Z")],
    ["London BST ends, 07:59:59 GMT", gb("2026-10-25T07:59:59Z"), blocked(["contact-hours"], "2026-10-25T08:00:00Z")],
    ["London BST ends, from 21:00 BST the evening before", gb("2026-10-24T20:00:00Z"), blocked(["contact-hours"], "2026-10-25T08:00:00Z")],
  ])("%s", check);
});

// --- frequency caps -------------------------------------------------------------------------

const days = (...dd: number[]) => dd.map((d) => `2026-12-${String(d).padStart(2, "0")}T15:00:00Z`);
const voiceDec1To7 = attempts("voice", ...days(1, 2, 3, 4, 5, 6, 7));
const usVoice = (at: string, history: ContactHistoryEntry[]) => ask("US", "voice", at, { timeZone: NY, consent: CONSENTED, history });
const maHistory = [...attempts("voice", "2026-12-05T15:00:00Z"), ...attempts("sms", "2026-12-06T15:00:00Z")];
const waHistory = [...attempts("email", "2026-12-01T20:00:00Z"), ...attempts("sms", "2026-12-02T20:00:00Z"), ...attempts("whatsapp", "2026-12-03T20:00:00Z")];
const waConversations = [
  conversation("sms", "2026-12-02T20:00:00Z"),
  conversation("whatsapp", "2026-12-03T20:00:00Z"),
  ...attempts("email", "2026-12-03T21:00:00Z"),
];
const jayapura = { timeZone: "Asia/Jayapura" };

describe("frequency caps", () => {
  it.each<Row>([
    ["US 7 voice attempts in 7 days", usVoice("2026-12-07T20:00:00Z", voiceDec1To7), blocked(["frequency-cap"], "2026-12-08T13:00:00Z")],
    ["US voice the day the oldest attempt drops out", usVoice("2026-12-08T13:00:00Z", voiceDec1To7), open("2026-12-08T13:00:00Z")],
    ["US 6 voice attempts in 7 days", usVoice("2026-12-07T20:00:00Z", voiceDec1To7.slice(1)), open("2026-12-07T20:00:00Z")],
    [
      "US 7 voice attempts on one day block 7 dates",
      usVoice("2026-12-03T20:00:00Z", attempts("voice", ...Array.from({ length: 7 }, (_, i) => `2026-12-03T1${i}:00:00Z`))),
      blocked(["frequency-cap"], "2026-12-10T13:00:00Z"),
    ],
    [
      "US voice attempts do not count against SMS",
      ask("US", "sms", "2026-12-07T20:00:00Z", { timeZone: NY, consent: CONSENTED, history: voiceDec1To7 }),
      open("2026-12-07T20:00:00Z"),
    ],
    [
      "US 3 SMS in 7 days",
      ask("US", "sms", "2026-12-06T17:00:00Z", {
        timeZone: NY,
        consent: CONSENTED,
        history: attempts("sms", ...days(1, 3, 5)),
      }),
      blocked(["frequency-cap"], "2026-12-08T13:00:00Z"),
    ],
    [
      "US 3 emails in 7 days",
      ask("US", "email", "2026-12-06T17:00:00Z", { timeZone: NY, history: attempts("email", ...days(2, 3, 4)) }),
      blocked(["frequency-cap"], "2026-12-09T13:00:00Z"),
    ],
    [
      "US-MA 2 voice+SMS in 7 days",
      ask("US-MA", "sms", "2026-12-07T15:00:00Z", { consent: CONSENTED, history: maHistory }),
      blocked(["frequency-cap"], "2026-12-12T13:00:00Z"),
    ],
    ["US-MA email is outside the voice+SMS cap", ask("US-MA", "email", "2026-12-07T15:00:00Z", { history: maHistory }), open("2026-12-07T15:00:00Z")],
    [
      "US-WA 3 contacts of any channel in 7 days",
      ask("US-WA", "email", "2026-12-04T20:00:00Z", { history: waHistory }),
      blocked(["frequency-cap"], "2026-12-08T16:00:00Z"),
    ],
    [
      "US-WA counts conversations as contacts",
      ask("US-WA", "email", "2026-12-04T20:00:00Z", { timeZone: LA, history: waConversations }),
      blocked(["frequency-cap"], "2026-12-09T16:00:00Z"),
    ],
    [
      "ID 3 voice attempts per local day",
      ask("ID", "voice", "2026-12-08T05:00:00Z", {
        timeZone: "Asia/Jakarta",
        history: attempts("voice", "2026-12-08T02:00:00Z", "2026-12-08T03:00:00Z", "2026-12-08T04:00:00Z"),
      }),
      blocked(["frequency-cap"], "2026-12-09T01:00:00Z"),
    ],
    [
      "ID Jayapura, an SMS at 00:30 WIT (15:30Z the day before) counts for the local day",
      ask("ID", "sms", "2026-12-08T02:00:00Z", {
        ...jayapura,
        history: attempts("sms", "2026-12-07T15:30:00Z", "2026-12-08T00:00:00Z"),
      }),
      blocked(["frequency-cap"], "2026-12-08T23:00:00Z"),
    ],
    [
      "ID Jayapura, an SMS at 23:59 WIT belongs to the day before",
      ask("ID", "sms", "2026-12-08T02:00:00Z", {
        ...jayapura,
        history: attempts("sms", "2026-12-07T14:59:00Z", "2026-12-08T00:00:00Z"),
      }),
      open("2026-12-08T02:00:00Z"),
    ],
    [
      "IN 2 SMS/WhatsApp per local day, one just after IST midnight",
      ask("IN", "whatsapp", "2026-12-08T06:00:00Z", {
        consent: CONSENTED,
        history: [...attempts("whatsapp", "2026-12-07T18:45:00Z"), ...attempts("sms", "2026-12-08T04:00:00Z")],
      }),
      blocked(["frequency-cap"], "2026-12-09T02:30:00Z"),
    ],
    [
      "IN 3 voice attempts per local day",
      ask("IN", "voice", "2026-12-08T10:00:00Z", {
        history: attempts("voice", "2026-12-08T03:00:00Z", "2026-12-08T05:00:00Z", "2026-12-08T07:00:00Z"),
      }),
      blocked(["frequency-cap"], "2026-12-09T02:30:00Z"),
    ],
    [
      "KE 3 voice attempts per local day",
      ask("KE", "voice", "2026-12-08T09:00:00Z", {
        history: attempts("voice", "2026-12-08T06:00:00Z", "2026-12-08T07:00:00Z", "2026-12-08T08:00:00Z"),
      }),
      blocked(["frequency-cap"], "2026-12-09T05:00:00Z"),
    ],
    [
      "SG 2 SMS per local day, one at 00:30 SGT",
      ask("SG", "sms", "2026-12-08T03:00:00Z", {
        history: attempts("sms", "2026-12-07T16:30:00Z", "2026-12-08T01:00:00Z"),
      }),
      blocked(["frequency-cap"], "2026-12-09T00:00:00Z"),
    ],
    [
      "GB 2 SMS per local day",
      ask("GB", "sms", "2026-12-08T11:00:00Z", {
        history: attempts("sms", "2026-12-08T09:00:00Z", "2026-12-08T10:00:00Z"),
      }),
      blocked(["frequency-cap"], "2026-12-09T08:00:00Z"),
    ],
    [
      "GB WhatsApp has no daily cap",
      ask("GB", "whatsapp", "2026-12-08T11:00:00Z", {
        consent: CONSENTED,
        history: attempts("whatsapp", "2026-12-08T08:00:00Z", "2026-12-08T09:00:00Z", "2026-12-08T10:00:00Z"),
      }),
      open("2026-12-08T11:00:00Z"),
    ],
  ])("%s", check);
});

// --- cool-off -------------------------------------------------------------------------------

describe("US voice cool-off after a conversation (its date is day 1)", () => {
  const talkedDec1 = [conversation("voice", "2026-12-01T15:00:00Z")];
  it.each<Row>([
    ["day 2", usVoice("2026-12-02T15:00:00Z", talkedDec1), blocked(["cool-off"], "2026-12-08T13:00:00Z")],
    ["day 7, evening", usVoice("2026-12-07T23:00:00Z", talkedDec1), blocked(["cool-off"], "2026-12-08T13:00:00Z")],
    ["day 8 at 08:00", usVoice("2026-12-08T13:00:00Z", talkedDec1), open("2026-12-08T13:00:00Z")],
    [
      "a conversation at 23:30 EST counts on its local date",
      usVoice("2026-12-02T15:00:00Z", [conversation("voice", "2026-12-02T04:30:00Z")]),
      blocked(["cool-off"], "2026-12-08T13:00:00Z"),
    ],
    [
      "SMS is not cooled off",
      ask("US", "sms", "2026-12-02T15:00:00Z", { timeZone: NY, consent: CONSENTED, history: talkedDec1 }),
      open("2026-12-02T15:00:00Z"),
    ],
  ])("%s", check);
});

// --- unknown or several zones ---------------------------------------------------------------

describe("unknown or several possible zones: every zone must allow", () => {
  it.each<Row>([
    ["ID no zone, 07:30 in Jakarta", ask("ID", "email", "2026-12-08T00:30:00Z"), blocked(["contact-hours"], "2026-12-08T01:00:00Z")],
    ["ID no zone, 20:00 in Jayapura", ask("ID", "email", "2026-12-08T11:00:00Z"), blocked(["contact-hours"], "2026-12-09T01:00:00Z")],
    ["ID no zone, 19:59:59 in Jayapura", ask("ID", "email", "2026-12-08T10:59:59Z"), open("2026-12-08T10:59:59Z")],
    [
      "ID no zone, Sunday in Jakarta and Monday in Jayapura",
      ask("ID", "email", "2026-12-06T16:30:00Z"),
      blocked(["contact-days", "contact-hours"], "2026-12-07T01:00:00Z"),
    ],
    [
      "US New York or Los Angeles, 06:00 in Los Angeles",
      ask("US", "email", "2026-12-08T14:00:00Z", { timeZone: [NY, LA] }),
      blocked(["contact-hours"], "2026-12-08T16:00:00Z"),
    ],
    [
      "US New York or Los Angeles, 21:30 in New York",
      ask("US", "email", "2026-12-09T02:30:00Z", { timeZone: [NY, LA] }),
      blocked(["contact-hours"], "2026-12-09T16:00:00Z"),
    ],
    ["US no zone, 07:59:59 in Honolulu", ask("US", "email", "2026-12-08T17:59:59Z"), blocked(["contact-hours"], "2026-12-08T18:00:00Z")],
    ["US no zone, 08:00 in Honolulu and 13:00 in New York", ask("US", "email", "2026-12-08T18:00:00Z"), open("2026-12-08T18:00:00Z")],
    ["US no zone, 21:00 in New York", ask("US", "email", "2026-12-09T02:00:00Z"), blocked(["contact-hours"], "2026-12-09T18:00:00Z")],
  ])("%s", check);
});

// --- holds, opt-outs, consent ---------------------------------------------------------------

describe("holds, opt-outs and consent", () => {
  it.each<Row>([
    ["a hold blocks for good", ask("ID", "email", "2026-12-08T03:00:00Z", { holds: ["dispute"] }), blocked(["hold"], null)],
    [
      "a hold, out of hours",
      ask("US", "email", "2026-12-08T03:00:00Z", { timeZone: NY, holds: ["attorney-represented", "bankruptcy"] }),
      blocked(["hold", "contact-hours"], null),
    ],
    ["SMS opt-out", ask("US", "sms", "2026-12-08T15:00:00Z", { timeZone: NY, consent: CONSENTED, optOuts: ["sms"] }), blocked(["opt-out"], null)],
    ["an SMS opt-out leaves email open", ask("US", "email", "2026-12-08T15:00:00Z", { timeZone: NY, optOuts: ["sms"] }), open("2026-12-08T15:00:00Z")],
    ["WhatsApp without opt-in", ask("KE", "whatsapp", "2026-12-08T09:00:00Z"), blocked(["consent"], null)],
    ["WhatsApp with opt-in", ask("KE", "whatsapp", "2026-12-08T09:00:00Z", { consent: { whatsapp: true } }), open("2026-12-08T09:00:00Z")],
    [
      "US voice without autodialed-call consent",
      ask("US", "voice", "2026-12-08T15:00:00Z", { timeZone: NY, consent: { whatsapp: true } }),
      blocked(["consent"], null),
    ],
    [
      "US SMS with consent refused",
      ask("US", "sms", "2026-12-08T15:00:00Z", { timeZone: NY, consent: { autodialedCalls: false } }),
      blocked(["consent"], null),
    ],
    ["US voice with consent", ask("US", "voice", "2026-12-08T15:00:00Z", { timeZone: NY, consent: { autodialedCalls: true } }), open("2026-12-08T15:00:00Z")],
    ["GB voice needs no autodialer consent", ask("GB", "voice", "2026-12-08T15:00:00Z"), open("2026-12-08T15:00:00Z")],
  ])("%s", check);
});

// --- product variants -----------------------------------------------------------------------

describe("India microfinance hours 09:00–18:00", () => {
  const mfi = (at: string) => ask("IN", "email", at, { product: "microfinance" });
  it.each<Row>([
    ["08:30 IST", mfi("2026-12-08T03:00:00Z"), blocked(["contact-hours"], "2026-12-08T03:30:00Z")],
    ["09:00 IST", mfi("2026-12-08T03:30:00Z"), open("2026-12-08T03:30:00Z")],
    ["17:59:59 IST", mfi("2026-12-08T12:29:59Z"), open("2026-12-08T12:29:59Z")],
    ["18:00 IST", mfi("2026-12-08T12:30:00Z"), blocked(["contact-hours"], "2026-12-09T03:30:00Z")],
    ["18:00 IST, another product", ask("IN", "email", "2026-12-08T12:30:00Z", { product: "credit-card" }), open("2026-12-08T12:30:00Z")],
    [
      "18:00 IST, spelled Microfinance",
      ask("IN", "email", "2026-12-08T12:30:00Z", { product: "Microfinance" }),
      blocked(["contact-hours"], "2026-12-09T03:30:00Z"),
    ],
    [
      "18:00 IST, spelled micro-finance ",
      ask("IN", "email", "2026-12-08T12:30:00Z", { product: "micro-finance " }),
      blocked(["contact-hours"], "2026-12-09T03:30:00Z"),
    ],
  ])("%s", check);
});

// --- several rules at once ------------------------------------------------------------------

describe("several failing rules are all reported", () => {
  it.each<Row>([
    ["ID Sunday night before Independence Day", id("2026-08-16T14:00:00Z"), blocked(["contact-hours", "contact-days"], "2026-08-18T01:00:00Z")],
    [
      "KE Jamhuri Day night, WhatsApp opted out and never consented",
      ask("KE", "whatsapp", "2026-12-12T19:00:00Z", { optOuts: ["whatsapp"] }),
      blocked(["opt-out", "consent", "contact-hours", "holiday"], null),
    ],
    [
      "US voice late, at the cap and cooling off",
      usVoice("2026-12-07T03:00:00Z", [...attempts("voice", ...days(1, 2, 3, 4, 5, 6)), conversation("voice", "2026-12-06T16:00:00Z")]),
      blocked(["contact-hours", "frequency-cap", "cool-off"], "2026-12-13T13:00:00Z"),
    ],
  ])("%s", check);
});

// --- details name time, zone, limit and source ----------------------------------------------

describe("reason details", () => {
  it("name the local time, zone, window and source", () => {
    const decision = evaluateContact(us(NY, "2026-12-07T02:30:00Z"));
    expect(decision.reasons).toEqual([{ rule: "contact-hours", detail: "21:30 in America/New_York is outside 08:00–21:00 (12 CFR 1006.6(b)(1)(i))" }]);
  });

  it("come one per failing zone", () => {
    const decision = evaluateContact(ask("ID", "email", "2026-08-17T05:00:00Z"));
    expect(decision.reasons.map((r) => r.detail)).toEqual([
      "2026-08-17 in Asia/Jakarta is a holiday: Hari Proklamasi Kemerdekaan RI (POJK 22/2023 Art. 62(2))",
      "2026-08-17 in Asia/Makassar is a holiday: Hari Proklamasi Kemerdekaan RI (POJK 22/2023 Art. 62(2))",
      "2026-08-17 in Asia/Jayapura is a holiday: Hari Proklamasi Kemerdekaan RI (POJK 22/2023 Art. 62(2))",
    ]);
  });

  it("name the dates, count and limit of a cap, and the state and country versions", () => {
    const decision = evaluateContact(ask("US-MA", "sms", "2026-12-07T15:00:00Z", { consent: CONSENTED, history: maHistory }));
    expect(decision.reasons).toEqual([
      {
        rule: "frequency-cap",
        detail: "voice/sms contacts on 2026-12-01…2026-12-07 in America/New_York: 2, limit 2 per 7 days (940 CMR 7.04(1)(f))",
      },
    ]);
    expect(decision.policy).toEqual({ jurisdiction: "US-MA", version: "2026-11-01+US@2026-11-01" });
  });

  it("name the conversation date and the resume date of a cool-off", () => {
    const decision = evaluateContact(usVoice("2026-12-02T15:00:00Z", [conversation("voice", "2026-12-01T15:00:00Z")]));
    expect(decision.reasons.map((r) => r.detail)).toEqual([
      "conversation on 2026-12-01 in America/New_York: no voice until 2026-12-08 (7 days, the conversation's date is day 1; 12 CFR 1006.14(b)(2)(i)(B))",
    ]);
  });
});

// --- errors ---------------------------------------------------------------------------------

describe("invalid input", () => {
  it("an unknown jurisdiction throws UnknownJurisdictionError with the code", () => {
    let error: unknown;
    try {
      evaluateContact(ask("FR", "sms", "2026-12-08T10:00:00Z"));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownJurisdictionError);
    expect(error).toMatchObject({ jurisdiction: "FR", message: "Unknown jurisdiction: FR" });
  });

  it.each(["constructor", "us", "US-CA", ""])("jurisdiction %j is unknown", (jurisdiction) => {
    expect(() => evaluateContact(ask(jurisdiction, "sms", "2026-12-08T10:00:00Z"))).toThrow(UnknownJurisdictionError);
  });

  it.each<[string, GateInput]>([
    ["an unknown zone", ask("US", "email", "2026-12-08T15:00:00Z", { timeZone: "America/Nowhere" })],
    ["an instant without offset", ask("US", "email", "2026-12-08T15:00:00", { timeZone: NY })],
    ["a malformed history instant", ask("US", "email", "2026-12-08T15:00:00Z", { history: attempts("sms", "yesterday") })],
  ])("%s throws InvalidGateInputError", (_, input) => {
    expect(() => evaluateContact(input)).toThrow(InvalidGateInputError);
  });
});

// --- data and the explicit-policy variant ---------------------------------------------------

describe("policy and holiday data", () => {
  it.each(JURISDICTIONS)("%s has zones, a window per channel, and holiday data for 2026–2027 if needed", (code) => {
    const policy = policyFor(code);
    expect(policy.timeZones.length).toBeGreaterThan(0);
    expect(Object.keys(policy.windows).sort()).toEqual([...CHANNELS].sort());
    if (policy.holidays) {
      expect(lookUpHoliday(policy.holidays.calendar, "2026-06-15").covered).toBe(true);
      expect(lookUpHoliday(policy.holidays.calendar, "2027-06-15").covered).toBe(true);
    }
  });

  it("evaluateContactUnder applies the policy it is given, e.g. one tightened by ops", () => {
    const gbPolicy = policyFor("GB");
    const tightened = {
      ...gbPolicy,
      frequencyCaps: [{ channels: ["voice" as const], max: 1, days: 2, kind: "house" as const, source: "campaign limit" }],
    };
    const decision = evaluateContactUnder(tightened, ask("GB", "voice", "2026-12-08T11:00:00Z", { history: attempts("voice", "2026-12-07T09:00:00Z") }));
    expect(decision).toEqual({
      allowed: false,
      reasons: [
        {
          rule: "frequency-cap",
          detail: "voice contacts on 2026-12-07…2026-12-08 in Europe/London: 1, limit 1 per 2 days (campaign limit)",
        },
      ],
      nextAllowedAt: "2026-12-09T08:00:00Z",
      policy: { jurisdiction: "GB", version: "2026-11-01" },
    });
  });
});

// --- property: nextAllowedAt is allowed, and the second before it is not ----------------------

describe("nextAllowedAt is the earliest allowed instant", () => {
  const history = [
    ...attempts("voice", "2026-10-30T15:00:00Z", "2026-10-31T02:00:00Z", "2026-11-01T14:00:00Z"),
    ...attempts("sms", "2026-10-31T16:00:00Z", "2026-11-01T03:30:00Z"),
    conversation("voice", "2026-10-29T18:00:00Z"),
    ...attempts("email", "2026-10-30T20:00:00Z"),
  ];
  // Every 7 hours over 9 days from each start: US spring DST, the Lebaran leave, UK spring
  // DST, the autumn DST changes (with the history above), Christmas into the new year.
  const starts = ["2026-03-05", "2026-03-17", "2026-03-26", "2026-10-24", "2026-12-20"];
  const instants = starts.flatMap((start) =>
    Array.from({ length: 31 }, (_, i) => DateTime.fromISO(`${start}T00:00:00Z`, { zone: "utc" }).plus({ hours: 7 * i })),
  );
  const grid = JURISDICTIONS.flatMap((jurisdiction) => CHANNELS.map((channel) => ({ jurisdiction, channel })));

  it.each(grid)("$jurisdiction $channel", ({ jurisdiction, channel }) => {
    for (const instant of instants) {
      const input = ask(jurisdiction, channel, instant.toISO() ?? "", { consent: CONSENTED, history });
      const next = evaluateContact(input).nextAllowedAt;
      expect(next, input.at).not.toBeNull();
      const nextInstant = DateTime.fromISO(next ?? "", { zone: "utc" });
      expect(nextInstant >= instant, `${next} before ${input.at}`).toBe(true);
      expect(evaluateContact({ ...input, at: next ?? "" }).allowed, `${next} after ${input.at}`).toBe(true);
      if (nextInstant > instant) {
        const secondBefore = nextInstant.minus({ seconds: 1 }).toISO() ?? "";
        expect(evaluateContact({ ...input, at: secondBefore }).allowed, `${secondBefore} before ${next}`).toBe(false);
      }
    }
  });
});
