import { describe, expect, it } from "vitest";
import { debtorZones } from "./debtor-zones.ts";
import { evaluateContact } from "./gate.ts";

const ID_ZONES = ["Asia/Jakarta", "Asia/Jayapura", "Asia/Makassar", "Asia/Pontianak"];

describe("the zones a stored debtor may be in", () => {
  it.each<[name: string, timeZone: string | null, phones: (string | null)[], expected: string[] | undefined]>([
    ["no zone on file: the jurisdiction's zones apply", null, ["+6281234567899"], undefined],
    ["a zone of the phone's country", "Asia/Makassar", ["+6281234567899"], ["Asia/Makassar"]],
    ["an alias of a zone of the phone's country", "Asia/Kolkata", ["+919876543210"], ["Asia/Kolkata"]],
    ["no phone: the zone on file", "Europe/London", [null, null], ["Europe/London"]],
    ["an Indonesian mobile filed in London", "Europe/London", ["+6281234567899", null], ["Europe/London", ...ID_ZONES]],
    ["a UK mobile abroad in New York", "America/New_York", ["+447400123456"], ["America/New_York", "Europe/London"]],
    ["phone and WhatsApp from two countries", "Asia/Singapore", ["+6581234567", "+254712123456"], ["Asia/Singapore", "Africa/Nairobi"]],
    ["a UTC default on a Kenyan account", "Etc/UTC", ["+254712123456"], ["Etc/UTC", "Africa/Nairobi"]],
    ["a number of no country", "Europe/London", ["+80012345678"], ["Europe/London"]],
    ["a personal number, which has no place", "Asia/Kolkata", ["+15005550001"], ["Asia/Kolkata"]],
    ["a London landline", "Asia/Kolkata", ["+442071234567"], ["Asia/Kolkata", "Europe/London"]],
  ])("%s", (_name, timeZone, phones, expected) => {
    expect(debtorZones({ timeZone, phones })).toEqual(expected);
  });

  it("keeps a contact out of the night of the phone's country when the zone on file disagrees", () => {
    // 18:30 in London is 01:30 in Jakarta: Indonesia allows 08:00–20:00 local.
    const at = "2026-12-08T18:30:00Z";
    const london = evaluateContact({ jurisdiction: "ID", channel: "sms", at, timeZone: "Europe/London" });
    expect(london.allowed).toBe(true);
    const zones = debtorZones({ timeZone: "Europe/London", phones: ["+6281234567899"] })!;
    const decision = evaluateContact({ jurisdiction: "ID", channel: "sms", at, timeZone: zones });
    expect(decision.allowed).toBe(false);
    expect(decision.reasons.map((r) => r.rule)).toContain("contact-hours");
    // The earliest time both London and every Indonesian zone allow: 08:00 in London on Wednesday is 17:00 in Jayapura.
    expect(decision.nextAllowedAt).toBe("2026-12-09T08:00:00Z");
  });
});
