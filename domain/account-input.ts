import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";
import { z } from "zod";
import { JURISDICTIONS } from "./compliance/policies/index.ts";
import { isCurrency } from "./money.ts";

// Building an Intl.DateTimeFormat costs ~90 µs, too much per row of a large import. Only
// valid zones are remembered, so the cache is bounded by the IANA database.
const knownTimeZones = new Set<string>();

/** @example isTimeZone("Asia/Jakarta") // true */
export function isTimeZone(zone: string): boolean {
  if (knownTimeZones.has(zone)) return true;
  try {
    const valid = new Intl.DateTimeFormat("en", { timeZone: zone }).resolvedOptions().timeZone.length > 0 && zone.includes("/");
    if (valid) knownTimeZones.add(zone);
    return valid;
  } catch {
    return false;
  }
}

// The account schema checks a number and then normalises it: the last few answers are kept
// so an account's numbers are parsed once.
const recentNumbers = new Map<string, string | undefined>();

/**
 * Normalises a phone number to E.164, reading national formats in the account's country.
 * @example toE164("0812-3456-7890", "ID") // "+6281234567890"
 */
export function toE164(raw: string, country: string): string | undefined {
  const key = `${country} ${raw}`;
  if (recentNumbers.has(key)) return recentNumbers.get(key);
  const number = parsePhoneNumberFromString(raw.replace(/^whatsapp:/, ""), country as CountryCode);
  const e164 = number?.isValid() ? number.number : undefined;
  if (recentNumbers.size >= 4) recentNumbers.clear();
  recentNumbers.set(key, e164);
  return e164;
}

/** The ISO 3166-1 country of a jurisdiction code ("US-MA" → "US"). */
export function countryOf(jurisdiction: string): string {
  return jurisdiction.split("-")[0]!;
}

const MAX_MINOR = 2n ** 63n - 1n;
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
    balanceMinor: z
      .union([z.number().int().nonnegative(), z.string().regex(/^\d+$/, "must be a non-negative integer")])
      .transform((v) => BigInt(v))
      .refine((v) => v <= MAX_MINOR, "is larger than the largest amount Tagih stores (2^63 - 1 minor units)"),
    daysPastDue: z.number().int().nonnegative(),
    dueDate: z.iso.date().optional(),
    /** Prior express consent the creditor holds: WhatsApp opt-in; automated calls and texts (US). */
    consent: z
      .object({ whatsapp: z.boolean().default(false), autodialedCalls: z.boolean().default(false) })
      .strict()
      .default({ whatsapp: false, autodialedCalls: false }),
  })
  .strict()
  // Runs even when other fields failed, so one response names every bad field.
  .superRefine(
    (account, ctx) => {
      if (!JURISDICTIONS.includes(account.jurisdiction)) return;
      for (const field of ["phone", "whatsapp"] as const) {
        const raw = account[field];
        if (typeof raw === "string" && !toE164(raw, countryOf(account.jurisdiction))) {
          ctx.addIssue({ code: "custom", path: [field], message: `is not a valid phone number for ${countryOf(account.jurisdiction)}` });
        }
      }
    },
    { when: (payload) => typeof payload.value === "object" && payload.value !== null },
  )
  .transform((account) => {
    const country = countryOf(account.jurisdiction);
    const normalise = (raw: string | undefined) => (raw === undefined ? undefined : toE164(raw, country));
    return { ...account, phone: normalise(account.phone), whatsapp: normalise(account.whatsapp) };
  });

export type AccountInput = z.output<typeof accountInputSchema>;
