import { getCountries, getExampleNumber } from "libphonenumber-js/max";
import mobileExamples from "libphonenumber-js/mobile/examples";
import { canonicalZone, zonesOfCountry } from "../domain/compliance/debtor-zones.ts";

// A zone of a real country for each whole UTC offset (without summer time where the offset
// has one), so an account can carry a phone of the country its zone is in: the gate also
// counts the phone's country's zones when they disagree. Offset -12 has no country; +12
// shows the same clock a day later.
const ZONES: Record<number, string> = {
  [-11]: "Pacific/Pago_Pago",
  [-10]: "Pacific/Honolulu",
  [-9]: "Pacific/Gambier",
  [-8]: "America/Los_Angeles",
  [-7]: "America/Phoenix",
  [-6]: "America/Guatemala",
  [-5]: "America/Bogota",
  [-4]: "America/La_Paz",
  [-3]: "America/Sao_Paulo",
  [-2]: "America/Noronha",
  [-1]: "Atlantic/Cape_Verde",
  0: "Africa/Abidjan",
  1: "Africa/Lagos",
  2: "Africa/Johannesburg",
  3: "Africa/Nairobi",
  4: "Asia/Dubai",
  5: "Asia/Karachi",
  6: "Asia/Dhaka",
  7: "Asia/Jakarta",
  8: "Asia/Singapore",
  9: "Asia/Tokyo",
  10: "Australia/Brisbane",
  11: "Pacific/Guadalcanal",
  12: "Pacific/Fiji",
};

/**
 * A zone whose local time is now about `hour`:00 (an hour later in Los Angeles' summer), so
 * that tests running at any time of day find the compliance gate open (or closed) as they need.
 */
export function zoneAtLocalHour(hour: number, now = Date.now()): string {
  const offset = ((((hour - new Date(now).getUTCHours()) % 24) + 36) % 24) - 12;
  return ZONES[offset === -12 ? 12 : offset]!;
}

/**
 * The `n`th mobile number (up to 2,999) of the country `zone` is in, in E.164: the country's
 * example mobile with its last four digits replaced.
 */
export function mobileIn(zone: string, n: number): string {
  const country = getCountries().find((c) => zonesOfCountry(c).includes(canonicalZone(zone)));
  const example = country && getExampleNumber(country, mobileExamples)?.number;
  if (!example) throw new Error(`no country with mobile numbers has the zone ${zone}`);
  return `${example.slice(0, -4)}${String(7000 + n).padStart(4, "0")}`;
}
