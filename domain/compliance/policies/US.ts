import type { Policy } from "../types.ts";
import { EVERY_DAY, everyChannel, WHATSAPP_OPT_IN } from "./shared.ts";

const HOURS = "12 CFR 1006.6(b)(1)(i)";
const TCPA = "TCPA 47 U.S.C. 227(b) prior express consent, FCC 07-232";

/** United States: CFPB Regulation F (12 CFR part 1006) and the TCPA. */
export const US: Policy = {
  jurisdiction: "US",
  version: "2026-11-01",
  timeZones: ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"],
  windows: everyChannel({ start: "08:00", end: "21:00", kind: "law", source: HOURS }),
  contactDays: { weekdays: EVERY_DAY, kind: "law", source: HOURS },
  holidays: null,
  frequencyCaps: [
    { channels: ["voice"], max: 7, days: 7, kind: "law", source: "12 CFR 1006.14(b)(2)(i)(A)" },
    { channels: ["sms"], max: 3, days: 7, kind: "house", source: "house limit under 12 CFR 1006.14(a)" },
    { channels: ["email"], max: 3, days: 7, kind: "house", source: "house limit under 12 CFR 1006.14(a)" },
  ],
  coolOffs: [{ channels: ["voice"], days: 7, afterKind: "conversation", kind: "law", source: "12 CFR 1006.14(b)(2)(i)(B)" }],
  consent: [{ channel: "voice", consent: "autodialedCalls", source: TCPA }, { channel: "sms", consent: "autodialedCalls", source: TCPA }, WHATSAPP_OPT_IN],
  sources: [
    "12 CFR 1006.6(b)(1)(i) — inconvenient times: before 08:00 or after 21:00 local; all possible zones when unclear (commentary)",
    "12 CFR 1006.14(b)(2)(i)(A) — more than 7 calls within 7 consecutive days",
    "12 CFR 1006.14(b)(2)(i)(B) — a call within 7 days after a telephone conversation",
    "12 CFR 1006.14(a) — harassment (no number; house caps of 3 SMS and 3 emails per 7 days)",
    "12 CFR 1006.6(e), 1006.14(h) — electronic opt-out honoured per channel",
    "12 CFR 1006.6(b)(2), 1006.6(c) — attorney representation and cease requests stop contact",
    TCPA,
  ],
};
