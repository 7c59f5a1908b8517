import type { Policy } from "../types.ts";
import { EVERY_DAY, everyChannel, WHATSAPP_OPT_IN } from "./shared.ts";

const HOURS = "CONC 7.9.4R, usual hours per MCOB 13.5.4G";
const EXCESSIVE = "house limit under CONC 7.9: no excessive contact";

/** United Kingdom: FCA Consumer Credit sourcebook. */
export const GB: Policy = {
  jurisdiction: "GB",
  version: "2026-11-01",
  timeZones: ["Europe/London"],
  windows: everyChannel({ start: "08:00", end: "21:00", kind: "house", source: HOURS }),
  contactDays: { weekdays: EVERY_DAY, kind: "house", source: HOURS },
  holidays: null,
  frequencyCaps: [
    { channels: ["voice"], max: 3, days: 1, kind: "house", source: EXCESSIVE },
    { channels: ["sms"], max: 2, days: 1, kind: "house", source: EXCESSIVE },
  ],
  coolOffs: [],
  consent: [WHATSAPP_OPT_IN],
  sources: [
    "CONC 7.9.4R — no contact at unreasonable times; MCOB 13.5.4G treats 08:00–21:00 as usual hours",
    "CONC 7.9 — no excessive contact (house: 3 voice attempts and 2 SMS per local day)",
  ],
};
