import type { StatePolicy } from "../types.ts";

/** Massachusetts: applies on top of the US policy. */
export const US_MA: StatePolicy = {
  jurisdiction: "US-MA",
  version: "2026-11-01",
  country: "US",
  timeZones: ["America/New_York"],
  frequencyCaps: [{ channels: ["voice", "sms"], max: 2, days: 7, kind: "law", source: "940 CMR 7.04(1)(f)" }],
  sources: ["940 CMR 7.04(1)(f) — at most 2 telephone or text communications in each 7-day period"],
};
