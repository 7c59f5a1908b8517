import type { StatePolicy } from "../types.ts";

/** Washington: applies on top of the US policy. */
export const US_WA: StatePolicy = {
  jurisdiction: "US-WA",
  version: "2026-11-01",
  country: "US",
  timeZones: ["America/Los_Angeles"],
  frequencyCaps: [{ channels: ["sms", "whatsapp", "voice", "email"], max: 3, days: 7, kind: "law", source: "RCW 19.16.250" }],
  sources: ["RCW 19.16.250 — at most 3 communications with the debtor in any 7-day period"],
};
