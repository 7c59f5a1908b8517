import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";
import { z } from "zod";
import { JURISDICTIONS } from "./compliance/policies/index.ts";
import { currencyCodeSchema, isCurrency, toMinorUnits } from "./money.ts";
// Words the schema's issues ("is required", "must be a string"): see plainReason.
import "./plain-reason.ts";

// Building an Intl.DateTimeFormat costs ~90 µs, too much per row of a large import. Only
// valid zones are remembered, so the cache is bounded by the IANA database (and its spellings).
const knownTimeZones = new Map<string, string>();

// Zones IANA renamed whose old name ICU still gives as canonical (Asia/Kolkata comes back as
// Asia/Calcutta). Ops type the current names; these are stored as typed, in any case.
const RENAMED_ZONES = [
  "Asia/Kolkata",
  "Europe/Kyiv",
  "Asia/Ho_Chi_Minh",
  "Asia/Kathmandu",
  "Asia/Yangon",
  "America/Nuuk",
  "Atlantic/Faroe",
  "Pacific/Kanton",
  "Pacific/Chuuk",
  "Pacific/Pohnpei",
  "America/Argentina/Buenos_Aires",
  "America/Indiana/Indianapolis",
  "America/Kentucky/Louisville",
];
// Every zone ICU lists and the renamed ones, by their spelling in lower case.
const zoneSpellings = new Map([...Intl.supportedValuesOf("timeZone"), ...RENAMED_ZONES, "UTC"].map((zone) => [zone.toLowerCase(), zone]));

/**
 * The zone as the IANA database spells it, or undefined when it is not an IANA zone. A
 * link keeps the name typed ("Asia/Kolkata" is not turned into ICU's "Asia/Calcutta");
 * abbreviations such as "EST" or "WIB" are refused (a fixed offset is no debtor's zone),
 * "UTC" is taken.
 * @example canonicalTimeZone("asia/jakarta") // "Asia/Jakarta"
 */
export function canonicalTimeZone(zone: string): string | undefined {
  const known = knownTimeZones.get(zone);
  if (known) return known;
  try {
    const canonical = new Intl.DateTimeFormat("en", { timeZone: zone }).resolvedOptions().timeZone;
    if (!canonical || !(zone.includes("/") || zone.toUpperCase() === "UTC")) return undefined;
    const spelled = zoneSpellings.get(zone.toLowerCase()) ?? canonical;
    knownTimeZones.set(zone, spelled);
    return spelled;
  } catch {
    return undefined;
  }
}

/** @example isTimeZone("Asia/Jakarta") // true */
export function isTimeZone(zone: string): boolean {
  return canonicalTimeZone(zone) !== undefined;
}

// Canonicalising a locale costs a few µs; a portfolio uses a handful. Any string may be a
// valid tag (private-use subtags), so the cache is emptied when it grows large.
const knownLocales = new Map<string, string>();

/**
 * The BCP 47 tag in its canonical form, or undefined when it is not one.
 * @example canonicalLocale("EN-us") // "en-US"
 */
export function canonicalLocale(tag: string): string | undefined {
  const known = knownLocales.get(tag);
  if (known) return known;
  let canonical: string[];
  try {
    canonical = Intl.getCanonicalLocales(tag);
  } catch {
    return undefined;
  }
  // BCP 47 reserves 5–8-letter language subtags and none is registered: "english" (from a
  // file's Language column) is a well-formed tag no template or formatter knows.
  if (canonical.length !== 1 || !/^[a-z]{2,3}(-|$)/.test(canonical[0]!)) return undefined;
  if (knownLocales.size >= 1000) knownLocales.clear();
  knownLocales.set(tag, canonical[0]!);
  return canonical[0];
}

/** @example isLocale("id-ID") // true */
export function isLocale(tag: string): boolean {
  return canonicalLocale(tag) !== undefined;
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
  const text = raw.replace(/^whatsapp:/, "");
  let number = parsePhoneNumberFromString(text, country as CountryCode);
  // "0062 812…": people write 00 for the international prefix whatever their country dials
  // (Indonesia dials 001, Kenya 000); a national number never starts 00 where that differs.
  if (!number?.isValid() && /^\D*0\D*0/.test(text)) number = parsePhoneNumberFromString(text.replace(/^\D*0\D*0/, "+"), country as CountryCode);
  const e164 = number?.isValid() ? number.number : undefined;
  if (recentNumbers.size >= 4) recentNumbers.clear();
  recentNumbers.set(key, e164);
  return e164;
}

/**
 * What is wrong with a phone number for an account of `country`, if anything. A number with
 * an extension is refused rather than stored without it: a call or text would reach the
 * switchboard, where others may learn of the debt (third-party disclosure).
 * @example phoneProblem("0812-3456-7890 ext 12", "ID") // "has an extension (12): …"
 */
export function phoneProblem(raw: string, country: string): string | undefined {
  if (!toE164(raw, country)) return `is not a valid phone number for ${country}`;
  const ext = parsePhoneNumberFromString(raw.replace(/^whatsapp:/, ""), country as CountryCode)?.ext;
  return ext
    ? `has an extension (${ext}): texts and calls would reach the switchboard, where others may learn of the debt; give the debtor's direct number`
    : undefined;
}

/** The ISO 3166-1 country of a jurisdiction code ("US-MA" → "US"). */
export function countryOf(jurisdiction: string): string {
  const dash = jurisdiction.indexOf("-");
  return dash < 0 ? jurisdiction : jurisdiction.slice(0, dash);
}

/** An IANA zone in any case ("asia/jakarta"), given back as the database spells it. */
export const timeZoneSchema = z
  .string()
  .trim()
  .refine(isTimeZone, "must be an IANA time zone such as Asia/Jakarta")
  .transform((zone) => canonicalTimeZone(zone)!);

/** A jurisdiction code in any case ("us-ma"), given back in capitals. */
export const jurisdictionSchema = z
  .string()
  .trim()
  .toUpperCase()
  .refine((v) => JURISDICTIONS.includes(v), `must be one of ${JURISDICTIONS.join(", ")}`);

const MAX_MINOR = 2n ** 63n - 1n;
const NOT_MINOR = "must be a non-negative integer (minor units), as a number or a digit string";
const phone = z.string().trim().min(1).max(40);

/** One account as ops send it; contact points become E.164 and money minor units. */
export const accountInputSchema = z
  .object({
    externalId: z.string().trim().min(1).max(100),
    name: z.string().trim().min(1).max(200),
    phone: phone.optional(),
    email: z.email().max(254).optional(),
    whatsapp: phone.optional(),
    // Stored as the IANA database, BCP 47 and ISO spell them, whatever case ops typed.
    timeZone: timeZoneSchema.optional(),
    locale: z
      .string()
      .trim()
      .transform((tag) => tag.replaceAll("_", "-")) // en_US, as operating systems write it
      .refine(isLocale, "must be a BCP 47 locale such as id-ID (a language code, not its name)")
      .transform((tag) => canonicalLocale(tag)!)
      .default("en"),
    jurisdiction: jurisdictionSchema,
    product: z.string().trim().min(1).max(100),
    currency: currencyCodeSchema,
    balanceMinor: z
      .union(
        [
          z
            .number()
            // A JSON number above 2^53 has lost digits before we see it.
            .int({ error: (issue) => (Number.isInteger(issue.input) ? "is larger than a JSON number holds exactly: send it as a digit string" : NOT_MINOR) })
            .nonnegative(NOT_MINOR),
          z.string().regex(/^\d+$/, NOT_MINOR),
        ],
        { error: (issue) => (issue.input === undefined ? "is required" : NOT_MINOR) },
      )
      .transform((v) => BigInt(v))
      .refine((v) => v <= MAX_MINOR, "is larger than the largest amount Tagih stores (2^63 - 1 minor units)"),
    // The database stores days past due as a 32-bit integer.
    daysPastDue: z.number().int().nonnegative().max(2_147_483_647),
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
        const problem = typeof raw === "string" ? phoneProblem(raw, countryOf(account.jurisdiction)) : undefined;
        if (problem) ctx.addIssue({ code: "custom", path: [field], message: problem });
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

/**
 * Columns of an import file, named as the account's JSON fields. `balance` is in major units
 * ("1500.50"), `balanceMinor` in minor units; `country` stands for the jurisdiction when
 * that column is absent, and must agree with it when both are given.
 */
export const IMPORT_COLUMNS = [
  "externalId",
  "name",
  "phone",
  "email",
  "whatsapp",
  "timeZone",
  "locale",
  "jurisdiction",
  "country",
  "product",
  "currency",
  "balance",
  "balanceMinor",
  "daysPastDue",
  "dueDate",
  "consentWhatsapp",
  "consentAutodialedCalls",
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/**
 * Other names collection systems and spreadsheets give the columns, read as the columns are
 * (case, spaces, `_` and `-` do not matter). A file naming one column twice, under its name
 * and an alias or under two aliases, is refused: which of the two is meant?
 */
export const IMPORT_COLUMN_ALIASES: Partial<Record<ImportColumn, readonly string[]>> = {
  externalId: ["Account Number", "Account No", "Loan ID"],
  name: ["Customer Name", "Debtor Name"],
  phone: ["Mobile", "Mobile Number", "Phone Number", "MSISDN"],
  email: ["Email Address"],
  timeZone: ["TZ"],
  locale: ["Language"],
  balance: ["Outstanding", "Outstanding Amount"],
  daysPastDue: ["DPD"],
};

const columnsByKey = new Map<string, ImportColumn>([
  ...IMPORT_COLUMNS.map((c): [string, ImportColumn] => [columnKey(c), c]),
  ...Object.entries(IMPORT_COLUMN_ALIASES).flatMap(([c, aliases]) => aliases.map((a): [string, ImportColumn] => [columnKey(a), c as ImportColumn])),
]);

function columnKey(header: string): string {
  return header.toLowerCase().replace(/[\s_-]+/g, "");
}

/**
 * The column a header cell names, by its name or an alias: case, spaces, underscores and
 * hyphens do not matter.
 * @example importColumnOf("External_ID") // "externalId"
 * @example importColumnOf("Mobile Number") // "phone"
 */
export function importColumnOf(header: string): ImportColumn | undefined {
  return columnsByKey.get(columnKey(header.trim()));
}

/** Required columns (or alternatives, "balance or balanceMinor") missing from a file's columns. */
export function missingImportColumns(columns: ReadonlySet<ImportColumn>): string[] {
  const required: ImportColumn[][] = [
    ["externalId"],
    ["name"],
    ["jurisdiction", "country"],
    ["product"],
    ["currency"],
    ["balance", "balanceMinor"],
    ["daysPastDue"],
  ];
  return required.filter((any) => !any.some((c) => columns.has(c))).map((any) => any.join(" or "));
}

/** One row of an import file: CSV cells are strings, JSON lines values may be typed. */
export type ImportRow = Partial<Record<ImportColumn, unknown>> & { consent?: unknown };

export interface RowProblem {
  field: string;
  reason: string;
}

export type RowResult = { account: AccountInput; problems?: undefined } | { account?: undefined; problems: RowProblem[] };

// A spreadsheet shows a number of 12 or more digits (an account number, a phone number) as
// 1.23457E+11 and exports it so: its digits are gone, and rows would collide on what is left.
const ROUNDED_NUMBER = /^\d(\.\d+)?E\+\d+$/i;
const DIGIT_FIELDS = new Set<string>(["externalId", "phone", "whatsapp"] satisfies ImportColumn[]);
const ASIDE = new Set<string>(["country", "balance", "consentWhatsapp", "consentAutodialedCalls"] satisfies ImportColumn[]);
const STANDS_FOR: Partial<Record<string, ImportColumn>> = { balanceMinor: "balance", jurisdiction: "country" };
const isBlank = (cell: unknown) => cell === undefined || cell === null || (typeof cell === "string" && cell.trim() === "");
const YES = new Set(["true", "yes", "y", "1"]);
const NO = new Set(["false", "no", "n", "0"]);

/**
 * Validates one row of an import file into an account, naming every bad field. Empty cells
 * are absent values; amounts in major units become minor units exactly (no thousands
 * separators: "1,234" means 1.234 in half the world).
 * @example accountFromRow({ externalId: "A-1", name: "Budi", country: "ID", phone: "0812-3456-7890", product: "card", currency: "IDR", balance: "1500000.50", daysPastDue: "12" })
 */
export function accountFromRow(row: ImportRow): RowResult {
  const problems: RowProblem[] = [];
  const input: Record<string, unknown> = {};
  // Cells the schema does not take are set aside here rather than deleted from `input` later:
  // deleting properties turns an object into a slow dictionary for the schema's parser.
  const aside: Partial<Record<ImportColumn, unknown>> = {};
  for (const field in row) {
    const raw = row[field as keyof ImportRow];
    const value = typeof raw === "string" ? unwrapSpreadsheetText(raw.trim()) : raw;
    if (value === "" || value === null || value === undefined) continue;
    if (typeof value === "string" && value.includes("\u0000")) problems.push({ field, reason: "contains a NUL character" });
    // "\ud800" in a JSON line: valid JSON, but no text PostgreSQL can store.
    else if (typeof value === "string" && !value.isWellFormed()) problems.push({ field, reason: "must not contain unpaired surrogates" });
    else if (DIGIT_FIELDS.has(field) && typeof value === "string" && ROUNDED_NUMBER.test(value)) {
      problems.push({ field, reason: `is ${value}, a long number a spreadsheet rounded: format the column as text and export again` });
    } else if (ASIDE.has(field)) aside[field as ImportColumn] = value;
    else input[field] = value;
  }

  const { country, balance, consentWhatsapp, consentAutodialedCalls } = aside;
  if (country !== undefined) {
    const code = String(country).toUpperCase();
    if (input.jurisdiction === undefined) input.jurisdiction = code;
    else {
      const jurisdiction = String(input.jurisdiction).trim().toUpperCase();
      if (countryOf(jurisdiction) !== code)
        problems.push({ field: "country", reason: `is ${code} but jurisdiction ${jurisdiction} is in ${countryOf(jurisdiction)}` });
    }
  }

  if (balance !== undefined) {
    if (input.balanceMinor !== undefined) problems.push({ field: "balance", reason: "give balance or balanceMinor, not both" });
    else input.balanceMinor = majorToMinor(balance, input.currency, problems);
  }

  if (input.daysPastDue !== undefined) {
    const days = input.daysPastDue;
    // "12.0": a spreadsheet's number column. A JSON line's 3.5 or true is refused in the same words.
    if (typeof days === "string" && /^\d+(\.0+)?$/.test(days)) input.daysPastDue = Number(days);
    else if (!(typeof days === "number" && Number.isInteger(days) && days >= 0)) {
      problems.push({ field: "daysPastDue", reason: "must be a non-negative whole number of days" });
      input.daysPastDue = 0;
    }
  }

  // A JSON line's null clears a field; inside `consent`, that is no consent.
  const { consent } = input;
  if (typeof consent === "object" && consent !== null && !Array.isArray(consent))
    input.consent = Object.fromEntries(Object.entries(consent).map(([key, value]) => [key, value === null ? false : value]));

  if (consentWhatsapp !== undefined || consentAutodialedCalls !== undefined) {
    if (input.consent !== undefined) problems.push({ field: "consent", reason: "give consent or the consent columns, not both" });
    input.consent = {
      whatsapp: yesNo("consentWhatsapp", consentWhatsapp, problems),
      autodialedCalls: yesNo("consentAutodialedCalls", consentAutodialedCalls, problems),
    };
  }

  const parsed = accountInputSchema.safeParse(input);
  if (!parsed.success) {
    // A cell refused above was left out; the schema's "required" for it would say less.
    const named = new Set(problems.map((p) => p.field));
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String).join(".") || "(row)";
      // Named as the file's column where `balance` or `country` stood in for the field.
      const standIn = STANDS_FOR[path];
      const field = standIn && standIn in row && isBlank(row[path as keyof ImportRow]) ? standIn : path;
      if (!named.has(field)) problems.push({ field, reason: issue.message });
    }
  }
  return problems.length > 0 || !parsed.success ? { problems } : { account: parsed.data };
}

// Spreadsheets keep leading zeros by exporting a number as text: ="00456" (a formula giving
// text) or '00456 (the text prefix). Stored as written, such an id would be another account
// than the 00456 of a clean export.
const FORMULA_TEXT = /^="(.*)"$/s;
const TEXT_PREFIX = /^'(?=[\d+])/;

/**
 * The external id a row names, as its account would be stored under it, even when the row is
 * rejected for other fields: what finds a later row repeating it. Undefined when the id is
 * itself missing or invalid.
 * @example rowExternalId({ externalId: ' ="00456" ' }) // "00456"
 */
export function rowExternalId(row: ImportRow): string | undefined {
  const raw = row.externalId;
  if (typeof raw !== "string") return undefined;
  const id = unwrapSpreadsheetText(raw.trim()).trim();
  return id.length >= 1 && id.length <= 100 && !ROUNDED_NUMBER.test(id) && !id.includes("\u0000") && id.isWellFormed() ? id : undefined;
}

function unwrapSpreadsheetText(cell: string): string {
  if (cell.charCodeAt(0) === 61 /* = */) return FORMULA_TEXT.exec(cell)?.[1]?.replaceAll('""', '"') ?? cell;
  return cell.charCodeAt(0) === 39 /* ' */ ? cell.replace(TEXT_PREFIX, "") : cell;
}

/** Major units to a minor-unit digit string; a problem (and 0, so other fields are still checked) when it cannot be exact. */
function majorToMinor(balance: unknown, currency: unknown, problems: RowProblem[]): string {
  // A JSON number with at most 15 significant digits prints back exactly as it was written.
  const text = typeof balance === "number" && Number.isFinite(balance) && significantDigits(balance) <= 15 ? String(balance) : balance;
  if (typeof text === "number" && Number.isFinite(text)) {
    problems.push({ field: "balance", reason: "has more digits than a JSON number holds exactly: send the amount as a string" });
    return "0";
  }
  if (typeof text !== "string" || !/^\d+(\.\d+)?$/.test(text)) {
    const negative = typeof text === "string" ? /^-\d+(\.\d+)?$/.test(text) : typeof text === "number" && text < 0;
    const reason = negative
      ? "must not be negative"
      : 'must be an amount in major units with "." as the decimal point and no thousands separators, such as 1234.56';
    problems.push({ field: "balance", reason });
    return "0";
  }
  const code = typeof currency === "string" ? currency.trim().toUpperCase() : undefined;
  if (code === undefined || !isCurrency(code)) return "0"; // the currency's own problem names it
  try {
    return toMinorUnits(text, code).toString();
  } catch (error) {
    problems.push({ field: "balance", reason: (error as Error).message });
    return "0";
  }
}

function significantDigits(n: number): number {
  return String(n).replace(/^[-0.]+|\.|e.*$/g, "").length;
}

function yesNo(field: string, value: unknown, problems: RowProblem[]): boolean {
  if (value === undefined) return false;
  if (typeof value === "boolean") return value;
  const text = String(value).toLowerCase();
  if (YES.has(text)) return true;
  if (NO.has(text)) return false;
  problems.push({ field, reason: "must be true or false (yes/no, 1/0)" });
  return false;
}
