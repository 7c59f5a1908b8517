import { minorUnitDigits, toMajorString } from "../domain/money.ts";
import type { Amount } from "./data/money.ts";

/** Dashboard figures are shown in English number formats, whatever the debtor's locale. */
const LOCALE = "en";

/** @example count(12345) // "12,345" */
export const count = (n: number): string => n.toLocaleString(LOCALE);

/** A ratio as a percentage with one decimal; "–" when undefined (nothing to divide by). @example percent(1, 3) // "33.3 %" */
export function percent(ratio: number | null): string {
  return ratio === null ? "–" : `${(ratio * 100).toFixed(1)} %`;
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
  const digits = minorUnitDigits(currency);
  const format = new Intl.NumberFormat(LOCALE, {
    style: "currency",
    currency,
    currencyDisplay: "code",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  // Intl formats decimal strings exactly, without converting them to a double.
  return format.format(toMajorString(minor, currency) as unknown as number);
}
