import type { Policy } from "../types.ts";
import { everyChannel, MONDAY_TO_SATURDAY, WHATSAPP_OPT_IN } from "./shared.ts";

const HOUSE = "house default, no statutory contact hours in Kenya";

/** Kenya: no statutory hours; house defaults, CBK Digital Credit Providers Regulations 2022. */
export const KE: Policy = {
  jurisdiction: "KE",
  version: "2026-11-01",
  timeZones: ["Africa/Nairobi"],
  windows: everyChannel({ start: "08:00", end: "20:00", kind: "house", source: HOUSE }),
  contactDays: { weekdays: MONDAY_TO_SATURDAY, kind: "house", source: HOUSE },
  holidays: { calendar: "KE", kind: "house", source: `${HOUSE}; Public Holidays Act (Cap. 110)` },
  frequencyCaps: [
    { channels: ["voice"], max: 3, days: 1, kind: "house", source: HOUSE },
    { channels: ["sms", "whatsapp"], max: 2, days: 1, kind: "house", source: HOUSE },
  ],
  coolOffs: [],
  consent: [WHATSAPP_OPT_IN],
  sources: [
    "House: 08:00–20:00, Monday–Saturday, no public holidays; 3 voice attempts and 2 SMS/WhatsApp per local day",
    "CBK Digital Credit Providers Regulations 2022 — never contact the debtor's contacts or publish their data",
  ],
};
