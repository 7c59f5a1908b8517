import { parsePhoneNumberFromString } from "libphonenumber-js/max";

/**
 * The zones a stored debtor may be in, for the gate: the account's zone, and every zone of
 * the country of a phone number on file when the account's zone is not one of them. A
 * portfolio file's wrong or defaulted zone column (an Indonesian mobile filed under
 * `Europe/London`) then cannot put a contact at 01:30 in Jakarta: the compliance reference
 * asks that a contact be allowed in every possible zone when address and phone disagree.
 * A debtor abroad on a local number (a `+44` phone in `Europe/London`) keeps just that zone,
 * as does one whose number has no place (a personal or VoIP number).
 * Without a zone on file the answer is undefined: the gate then takes all of the
 * jurisdiction's zones. Countries' zones are the platform's time zone data (ICU), not a list
 * of our own; US area codes are not narrowed to their zones.
 *
 * @example debtorZones({ timeZone: "Europe/London", phones: ["+6281234567899"] })
 * // ["Europe/London", "Asia/Jakarta", "Asia/Jayapura", "Asia/Makassar", "Asia/Pontianak"]
 */
export function debtorZones({ timeZone, phones }: { timeZone: string | null; phones: (string | null)[] }): string[] | undefined {
  if (!timeZone) return undefined;
  const stated = canonicalZone(timeZone);
  const zones = [timeZone];
  for (const phone of phones) {
    const parsed = phone ? parsePhoneNumberFromString(phone) : undefined;
    const countryZones = parsed?.country && LOCATED.has(parsed.getType() ?? "") ? zonesOfCountry(parsed.country) : [];
    if (countryZones.length > 0 && !countryZones.includes(stated)) zones.push(...countryZones.filter((zone) => !zones.includes(zone)));
  }
  return zones;
}

// Mobile and landline numbers belong to a country's subscribers; personal, VoIP, toll-free
// and shared-cost numbers say nothing of where the debtor is.
const LOCATED = new Set(["MOBILE", "FIXED_LINE", "FIXED_LINE_OR_MOBILE"]);

/** ICU's canonical id of a zone ("Asia/Calcutta" for "Asia/Kolkata"), as `zonesOfCountry` names them. */
export const canonicalZone = (zone: string) => new Intl.DateTimeFormat("en", { timeZone: zone }).resolvedOptions().timeZone;

// `getTimeZones()` where the runtime has it, else the older `timeZones` getter of Node 20.
type LocaleZones = { getTimeZones?: () => string[]; timeZones?: string[] };

/** The zones of a country (ISO 3166-1 alpha-2) in the platform's time zone data. */
export function zonesOfCountry(country: string): string[] {
  const locale = new Intl.Locale(`und-${country}`) as Intl.Locale & LocaleZones;
  return locale.getTimeZones?.() ?? locale.timeZones ?? [];
}
