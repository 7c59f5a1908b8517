import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";
import { z } from "zod";
import { JURISDICTIONS } from "./compliance/policies/index.ts";
import { isCurrency } from "./money.ts";

/** @example isTimeZone("Asia/Jakarta") // true */
export function isTimeZone(zone: string): boolean {
  try {
    return new Intl.DateTimeFormat("en", { timeZone: zone }).resolvedOptions().timeZone.length > 0 && zone.includes("/");
  } catch {
    return false;
  }
}

/**
 * Normalises a phone number to E.164, reading national formats in the account's country.
 * @example toE164("0812-3456-7890", "ID") // "+6281234567890"
 */
export function toE164(raw: string, country: string): string | undefined {
  const number = parsePhoneNumberFromString(raw.replace(/^whatsapp:/, ""), country as CountryCode);
  return number?.isValid() ? number.number : undefined;
}

/** The ISO 3166-1 country of a jurisdiction code ("US-MA" → "US"). */
export function countryOf(jurisdiction: string): string {
  return jurisdiction.split("-")[0]!;
}

const phone = z.string().trim().min(1).max(40);

/** One account as ops send it; contact points become E.164 and money minor units. */
export const accountInputSchema = z
  .object({
    externalId: z.string().trim().min(1).max(100),
    name: z.string().trim().min(1).max(200),
    phone: phone.optional(),
    email: z.email().max(254).optional(),
    whatsapp: phone.optional(),
    timeZone: z.string().refine(isTimeZone, "must be an IANA time zone such as Asia/Jakarta").optional(),
    locale: z
      .string()
      .refine((v) => {
        try {
          return Intl.getCanonicalLocales(v).length === 1;
        } catch {
          return false;
        }
      }, "must be a BCP 47 locale such as id-ID")
      .default("en"),
    jurisdiction: z.string().refine((v) => JURISDICTIONS.includes(v), `must be one of ${JURISDICTIONS.join(", ")}`),
    product: z.string().trim().min(1).max(100),
    currency: z.string().refine(isCurrency, "must be an ISO 4217 currency code such as IDR"),
    balanceMinor: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/, "must be a non-negative integer")]).transform((v) => BigInt(v)),
    daysPastDue: z.number().int().nonnegative(),
    dueDate: z.iso.date().optional(),
  })
  .strict()
  .transform((account, ctx) => {
    const country = countryOf(account.jurisdiction);
    const normalise = (field: "phone" | "whatsapp") => {
      const raw = account[field];
      if (raw === undefined) return undefined;
      const e164 = toE164(raw, country);
      if (!e164) ctx.addIssue({ code: "custom", path: [field], message: `is not a valid phone number for ${country}` });
      return e164;
    };
    return { ...account, phone: normalise("phone"), whatsapp: normalise("whatsapp") };
  });

export type AccountInput = z.output<typeof accountInputSchema>;
