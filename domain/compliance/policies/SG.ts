import type { Policy } from "../types.ts";
import { everyChannel, MONDAY_TO_SATURDAY, WHATSAPP_OPT_IN } from "./shared.ts";

const HOUSE = "house default, no statutory contact hours in Singapore";

/** Singapore: no statutory hours; house defaults. */
export const SG: Policy = {
  jurisdiction: "SG",
  version: "2026-11-01",
  timeZones: ["Asia/Singapore"],
  windows: everyChannel({ start: "08:00", end: "21:00", kind: "house", source: HOUSE }),
  contactDays: { weekdays: MONDAY_TO_SATURDAY, kind: "house", source: HOUSE },
  holidays: { calendar: "SG", kind: "house", source: `${HOUSE}; Holidays Act 1998` },
  frequencyCaps: [
    { channels: ["voice"], max: 3, days: 1, kind: "house", source: HOUSE },
    { channels: ["sms", "whatsapp"], max: 2, days: 1, kind: "house", source: HOUSE },
  ],
  coolOffs: [],
  consent: [WHATSAPP_OPT_IN],
  sources: [
    "House: 08:00–21:00, Monday–Saturday, no public holidays; 3 voice attempts and 2 SMS/WhatsApp per local day",
    "Debt Collection Act 2022; Protection from Harassment Act 2014",
  ],
};
