import { roundCost } from "../domain/mis/cost.ts";
import { minorUnitDigits, toMajorString } from "../domain/money.ts";
import type { Amount } from "./data/money.ts";

/** Dashboard figures are shown in English number formats, whatever the debtor's locale. */
const LOCALE = "en";

/** @example count(12345) // "12,345" */
export const count = (n: number): string => n.toLocaleString(LOCALE);

/**
 * A ratio as a percentage with one decimal unless told; "–" when undefined (nothing to divide
 * by). A ratio above zero too small for the decimals says so rather than showing zero.
 * @example percent(1 / 3) // "33.3 %"
 * @example percent(0.00001, 2) // "< 0.01 %"
 */
export function percent(ratio: number | null, digits = 1): string {
  if (ratio === null) return "–";
  const shown = (ratio * 100).toFixed(digits);
  return ratio > 0 && Number(shown) === 0 ? `< ${(10 ** -digits).toFixed(digits)} %` : `${shown} %`;
}

/** A ratio in percent with one decimal, as a chart plots it; null stays null (no bar). @example chartPercent(0.12345) // 12.3 */
export const chartPercent = (ratio: number | null): number | null => (ratio === null ? null : Math.round(ratio * 1000) / 10);

/** Amounts per currency, exact to the currency's minor unit. @example amounts([{ currency: "USD", amountMinor: 150050n }]) // "$1,500.50" */
export function amounts(list: Amount[]): string {
  return list.length ? list.map((a) => money(a.amountMinor, a.currency)).join(" · ") : "–";
}

/**
 * An amount with every ISO 4217 minor digit: managers reconcile these figures, so unlike the
 * debtor-facing format (templates/format.ts) nothing is rounded to Intl's display digits.
 * @example money(150000050n, "IDR") // "IDR 1,500,000.50"
 */
export function money(minor: bigint, currency: string): string {
  // Intl formats decimal strings exactly, without converting them to a double.
  return currencyFormat(currency).format(toMajorString(minor, currency) as unknown as number);
}

/**
 * A channel cost in major units of its currency: every minor digit, and up to the millionths
 * the report API rounds it to, since unit prices are fractions of a cent. "–" without a
 * currency (nothing was priced).
 * @example cost(0.0365, "USD") // "USD 0.0365"
 */
export function cost(amount: number, currency: string | null): string {
  if (currency === null) return "–";
  return currencyFormat(currency, 6).format(roundCost(amount));
}

// Building an Intl.NumberFormat costs tens of µs and a page formats every cell of its tables:
// one per currency and precision, bounded by the ISO 4217 list.
const currencyFormats = new Map<string, Intl.NumberFormat>();

/** The currency's code and at least its minor digits (up to `maxDigits` where more are wanted). */
function currencyFormat(currency: string, maxDigits = 0): Intl.NumberFormat {
  const key = `${currency} ${maxDigits}`;
  let format = currencyFormats.get(key);
  if (!format) {
    const digits = minorUnitDigits(currency);
    format = new Intl.NumberFormat(LOCALE, {
      style: "currency",
      currency,
      currencyDisplay: "code",
      minimumFractionDigits: digits,
      maximumFractionDigits: Math.max(digits, maxDigits),
    });
    currencyFormats.set(key, format);
  }
  return format;
}
