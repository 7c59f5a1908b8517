import { toMajorString } from "../domain/money.ts";

/**
 * Formats an amount in minor units in the debtor's locale and currency. The amount is
 * scaled exactly (ISO 4217 digits, no floating point); Intl then shows it with the
 * digits people expect in that market (Indonesia shows rupiah without sen).
 * @example formatMoney(150_000_000n, "IDR", "id-ID") // "Rp 1.500.000"
 */
export function formatMoney(amountMinor: bigint | number, currency: string, locale: string): string {
  // Intl accepts decimal strings and formats them without converting to a double.
  return new Intl.NumberFormat(locale, { style: "currency", currency }).format(toMajorString(BigInt(amountMinor), currency) as unknown as number);
}

/**
 * Formats a calendar date (a due date) in the debtor's locale. Due dates are dates, not
 * instants, so they are shown as stored, in UTC.
 * @example formatDate(new Date("2026-12-25"), "en-GB") // "25 December 2026"
 */
export function formatDate(value: Date | string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" }).format(new Date(value));
}
