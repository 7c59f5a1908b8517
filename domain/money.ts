import currencyCodes from "currency-codes";
import { z } from "zod";

// ISO 4217 codes whose minor unit is "N.A.": metals, bond units, SDR, testing (XTS) and "no
// currency" (XXX). No debt is owed in them; currency-codes lists them with 0 digits.
const NOT_MONEY = new Set(["XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"]);

// currency-codes looks a code up by scanning its list; an import asks once or twice a row.
const digitsByCode = new Map(currencyCodes.data.filter((c) => !NOT_MONEY.has(c.code)).map((c) => [c.code, c.digits]));

/** @example isCurrency("IDR") // true */
export function isCurrency(code: string): boolean {
  return digitsByCode.has(code);
}

/** The largest amount in minor units a payment or promise may have: 18 digits, within PostgreSQL's bigint. */
const MAX_MINOR_AMOUNT = "999999999999999999";

const NOT_AN_AMOUNT = "must be a positive integer in minor units (a number or a digit string)";

/** A positive integer amount in minor units, as a JSON number or a digit string (within PostgreSQL's bigint), kept as a string so nothing rounds. */
export const minorAmountSchema = z
  .union(
    [
      // int() also holds a number to 2^53 - 1; failing, it leaves the reason to the union.
      z.number().int({ abort: true }).positive().max(Number.MAX_SAFE_INTEGER),
      z.string().regex(/^[1-9]\d{0,17}$/, {
        error: ({ input }) =>
          input === "0" ? "must be greater than 0" : /^[1-9]\d+$/.test(String(input)) ? `must be at most ${MAX_MINOR_AMOUNT}` : NOT_AN_AMOUNT,
      }),
    ],
    {
      // Left out, it "is required" (see plainReason).
      error: ({ input }) =>
        input === undefined
          ? undefined
          : // A JSON number past 2^53 has lost digits before we see it.
            Number.isInteger(input) && Number(input) > Number.MAX_SAFE_INTEGER
            ? "is larger than a JSON number holds exactly: send it as a digit string"
            : NOT_AN_AMOUNT,
    },
  )
  .transform(String);

/** An ISO 4217 code in any case ("idr", as some gateways send it), given back in capitals. */
export const currencyCodeSchema = z.string().trim().toUpperCase().refine(isCurrency, "must be an ISO 4217 currency code such as IDR");

/**
 * Digits of the minor unit as ISO 4217 defines them (IDR 2, JPY 0, KWD 3). Intl's display
 * digits differ for some currencies, so amounts are never scaled with Intl.
 * @example minorUnitDigits("JPY") // 0
 */
export function minorUnitDigits(currency: string): number {
  const digits = digitsByCode.get(currency.toUpperCase());
  if (digits === undefined) throw new RangeError(`unknown ISO 4217 currency: ${currency}`);
  return digits;
}

/**
 * An amount in minor units as an exact decimal string in major units.
 * @example toMajorString(150050n, "USD") // "1500.50"
 */
export function toMajorString(amountMinor: bigint, currency: string): string {
  const digits = minorUnitDigits(currency);
  const negative = amountMinor < 0n;
  const abs = negative ? -amountMinor : amountMinor;
  const scale = 10n ** BigInt(digits);
  return `${negative ? "-" : ""}${abs / scale}${digits ? "." + String(abs % scale).padStart(digits, "0") : ""}`;
}

/**
 * Parses an amount in major units ("1500.5", "1,500.50" is not accepted) into minor units
 * exactly, refusing more decimals than the currency has. Extra zeros pass ("1500.0" in JPY, as
 * spreadsheets print numbers), except three: "150.000" in IDR is far likelier Rp 150,000
 * written with a thousands separator than Rp 150, so it is refused as ambiguous.
 * @example toMinorUnits("1500.5", "USD") // 150050n
 */
export function toMinorUnits(major: string, currency: string): bigint {
  const digits = minorUnitDigits(currency);
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(major.trim());
  if (!m) throw new RangeError(`not a decimal amount: "${major}"`);
  const fraction = m[3] ?? "";
  if (fraction.replace(/0+$/, "").length > digits) throw new RangeError(`${currency} amounts have at most ${digits} decimal places; got "${major}"`);
  if (fraction.length > digits && fraction.length === 3) {
    throw new RangeError(
      `"${major}" is ambiguous: ${currency} amounts have at most ${digits} decimal places, so "." looks like a thousands separator here; write the amount without it`,
    );
  }
  const minor = BigInt(m[2]!) * 10n ** BigInt(digits) + BigInt((fraction + "0".repeat(digits)).slice(0, digits) || "0");
  return m[1] ? -minor : minor;
}
