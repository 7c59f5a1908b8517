import type { Policy } from "../types.ts";
import { EVERY_DAY, everyChannel, WHATSAPP_OPT_IN } from "./shared.ts";

const HOURS = "RBI/2022-23/108 of 12 Aug 2022 and its 2026 amendment directions";
const MICROFINANCE = "RBI directions for microfinance loans";
const PERSISTENT_CALLS = "house limit under RBI/2022-23/108: no persistent calls";

/** India: RBI conduct rules for recovery agents. */
export const IN: Policy = {
  jurisdiction: "IN",
  version: "2026-11-01",
  timeZones: ["Asia/Kolkata"],
  windows: everyChannel({ start: "08:00", end: "19:00", kind: "law", source: HOURS }),
  productWindows: {
    microfinance: everyChannel({ start: "09:00", end: "18:00", kind: "law", source: MICROFINANCE }),
  },
  contactDays: { weekdays: EVERY_DAY, kind: "law", source: HOURS },
  holidays: null,
  frequencyCaps: [
    { channels: ["voice"], max: 3, days: 1, kind: "house", source: PERSISTENT_CALLS },
    { channels: ["sms", "whatsapp"], max: 2, days: 1, kind: "house", source: PERSISTENT_CALLS },
  ],
  coolOffs: [],
  consent: [WHATSAPP_OPT_IN],
  sources: [
    "RBI/2022-23/108, 12 Aug 2022 — calls and messages only 08:00–19:00; dues discussed with borrower or guarantor only",
    MICROFINANCE + " — 09:00–18:00",
    "House: at most 3 voice attempts and 2 SMS/WhatsApp per local day",
  ],
};
