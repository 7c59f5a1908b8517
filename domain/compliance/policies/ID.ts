import type { Policy } from "../types.ts";
import { everyChannel, MONDAY_TO_SATURDAY, WHATSAPP_OPT_IN } from "./shared.ts";

const POJK = "POJK 22/2023 Art. 62(2)";
const NOT_DISRUPTIVE = "house limit under POJK 22/2023: not continuously or disruptively";

/** Indonesia: OJK consumer-protection rules for collection. */
export const ID: Policy = {
  jurisdiction: "ID",
  version: "2026-11-01",
  timeZones: ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"],
  windows: everyChannel({ start: "08:00", end: "20:00", kind: "law", source: POJK }),
  contactDays: { weekdays: MONDAY_TO_SATURDAY, kind: "law", source: POJK },
  holidays: { calendar: "ID", kind: "law", source: POJK },
  frequencyCaps: [
    { channels: ["voice"], max: 3, days: 1, kind: "house", source: NOT_DISRUPTIVE },
    { channels: ["sms", "whatsapp"], max: 2, days: 1, kind: "house", source: NOT_DISRUPTIVE },
  ],
  coolOffs: [],
  consent: [WHATSAPP_OPT_IN],
  sources: [
    "POJK 22/2023 Art. 62(2) — contact 08:00–20:00 local, Monday–Saturday, never on national holidays",
    "SEOJK 19/2023 IX.5.d — emergency contacts only to confirm whereabouts",
    "House: at most 3 voice attempts and 2 SMS/WhatsApp per local day",
  ],
};
