import { describe, expect, it } from "vitest";
import { accountFromRow, accountInputSchema, countryOf, importColumnOf, isLocale, missingImportColumns, phoneProblem, toE164 } from "./account-input.ts";

const base = { externalId: "A-1", name: "Budi", jurisdiction: "ID", product: "credit-card", currency: "IDR", balanceMinor: 150000000, daysPastDue: 12 };

describe("account input", () => {
  it.each([
    ["0812-3456-7890", "ID", "+6281234567890"],
    ["+62 812 3456 7890", "ID", "+6281234567890"],
    ["98765 43210", "IN", "+919876543210"],
    ["0712 345678", "KE", "+254712345678"],
    ["(415) 555-2671", "US", "+14155552671"],
    ["9123 4567", "SG", "+6591234567"],
    ["07911 123456", "GB", "+447911123456"],
    ["12345", "ID", undefined],
    // 00 as the international prefix, though Indonesia dials 001, Kenya 000, Singapore 001
    ["0062 812 3456 7890", "ID", "+6281234567890"],
    ["00254 712 345678", "KE", "+254712345678"],
    ["0065 9123 4567", "SG", "+6591234567"],
    ["0091 98765 43210", "IN", "+919876543210"],
    ["(00 44) 7911 123456", "GB", "+447911123456"],
    ["0062 12345", "ID", undefined],
  ])("%s in %s is %s", (raw, country, e164) => {
    expect(toE164(raw, country)).toBe(e164);
  });

  // Before, "0812-3456-7890 ext 12" was stored as +6281234567890: calls and texts went to the switchboard.
  it.each([
    ["0812-3456-7890", "ID", undefined],
    [
      "0812-3456-7890 ext 12",
      "ID",
      "has an extension (12): texts and calls would reach the switchboard, where others may learn of the debt; give the debtor's direct number",
    ],
    [
      "(415) 555-2671 x305",
      "US",
      "has an extension (305): texts and calls would reach the switchboard, where others may learn of the debt; give the debtor's direct number",
    ],
    ["12345", "ID", "is not a valid phone number for ID"],
  ])("phone %s in %s: %s", (raw, country, problem) => {
    expect(phoneProblem(raw, country)).toBe(problem);
  });

  // Before, {"whatsapp": null} in a JSON line was refused, though null clears every other field.
  it("reads a JSON line's null consent as no consent, keeping the other", () => {
    const row = { ...base, balanceMinor: undefined, balance: "1500000", consent: { whatsapp: null, autodialedCalls: true } };
    expect(accountFromRow(row).account?.consent).toEqual({ whatsapp: false, autodialedCalls: true });
  });

  it.each([
    ["id-ID", true],
    ["en", true],
    ["EN-us", true],
    ["zh-Hant-TW", true],
    ["en_US", false],
    ["English", false],
    ["bahasa", false],
    ["fil-PH", true],
    ["123", false],
    ["", false],
  ])("%s is a locale: %s", (tag, valid) => {
    expect(isLocale(tag)).toBe(valid);
    expect(isLocale(tag)).toBe(valid); // answered again from what it remembered
  });

  it.each([
    ["US-MA", "US"],
    ["ID", "ID"],
  ])("jurisdiction %s is in country %s", (jurisdiction, country) => {
    expect(countryOf(jurisdiction)).toBe(country);
  });

  it("normalises contact points and converts the balance to a bigint", () => {
    const account = accountInputSchema.parse({ ...base, phone: "0812-3456-7890", balanceMinor: "9000000000000000001" });
    expect(account.phone).toBe("+6281234567890");
    expect(account.balanceMinor).toBe(9000000000000000001n);
  });

  it.each([
    [{ phone: "0812" }, "phone"],
    [{ timeZone: "Jakarta" }, "timeZone"],
    [{ currency: "RPH" }, "currency"],
    [{ jurisdiction: "XX" }, "jurisdiction"],
    [{ daysPastDue: -1 }, "daysPastDue"],
    [{ balanceMinor: 1.5 }, "balanceMinor"],
    [{ balanceMinor: "9223372036854775808" }, "balanceMinor"],
    [{ email: "not-an-email" }, "email"],
    [{ dueDate: "2026-13-01" }, "dueDate"],
    [{ surprise: 1 }, ""],
  ])("rejects %o naming %s", (patch, field) => {
    const result = accountInputSchema.safeParse({ ...base, ...patch });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join("."))).toContain(field);
  });
});

describe("import rows", () => {
  const row = { externalId: "R-1", name: "Budi", jurisdiction: "ID", product: "card", currency: "IDR", balance: "100", daysPastDue: "3" };

  it.each([
    ["ID", "0812-3456-7890", "+6281234567890"],
    ["ID", "(021) 5795 1234", "+622157951234"],
    ["IN", "98765 43210", "+919876543210"],
    ["IN", "098765 43210", "+919876543210"],
    ["KE", "0712 345678", "+254712345678"],
    ["KE", "+254 712 345 678", "+254712345678"],
    ["SG", "9123 4567", "+6591234567"],
    ["US", "(415) 555-2671", "+14155552671"],
    ["US-MA", "(617) 253-1000", "+16172531000"],
    ["IN", "12345", undefined],
    ["GB", "07911 123456", "+447911123456"],
    ["GB", "+44 7911 123456", "+447911123456"],
  ])("reads %s phone %s as %s", (jurisdiction, phone, e164) => {
    const result = accountFromRow({ ...row, jurisdiction, currency: "USD", phone });
    if (e164) expect(result.account?.phone).toBe(e164);
    else expect(result.problems).toEqual([{ field: "phone", reason: `is not a valid phone number for ${jurisdiction}` }]);
  });

  it.each([
    ["IDR", "1500000.50", 150000050n],
    ["IDR", "1500000", 150000000n],
    ["JPY", "1500", 1500n],
    ["JPY", "1500.0", 1500n],
    ["KWD", "12.345", 12345n],
    ["USD", "0.1", 10n],
    ["USD", "92233720368547758.07", 9223372036854775807n],
    ["USD", 1234.56, 123456n],
  ])("converts %s %s to %s minor units exactly", (currency, balance, minor) => {
    expect(accountFromRow({ ...row, currency, balance }).account?.balanceMinor).toBe(minor);
  });

  it.each([
    [{ balance: "1,234.56" }, "balance", "no thousands separators"],
    [{ balance: "1.234,56" }, "balance", "no thousands separators"],
    [{ balance: "-5" }, "balance", "must not be negative"],
    [{ balance: "12.345", currency: "USD" }, "balance", "USD amounts have at most 2 decimal places"],
    [{ balance: "1.5", currency: "JPY" }, "balance", "JPY amounts have at most 0 decimal places"],
    [{ balance: "150.000", currency: "IDR" }, "balance", "looks like a thousands separator"],
    [{ balance: "92233720368547758.08", currency: "USD" }, "balance", "larger than the largest amount"],
    [{ balance: 0.1 + 0.2 }, "balance", "holds exactly: send the amount as a string"],
    [{ balance: 12345678901234.56 }, "balance", "holds exactly"],
    [{ balance: "" }, "balance", "is required"],
    [{ balance: undefined, balanceMinor: 2 ** 53 + 2 }, "balanceMinor", "send it as a digit string"],
    [{ balance: undefined, balanceMinor: "-5" }, "balanceMinor", "non-negative integer"],
    [{ jurisdiction: undefined, country: "Indonesia" }, "country", "must be one of"],
    [{ balance: "1", balanceMinor: "100" }, "balance", "not both"],
    [{ daysPastDue: "-1" }, "daysPastDue", "non-negative whole number"],
    [{ daysPastDue: "3.5" }, "daysPastDue", "non-negative whole number"],
    [{ currency: "RPH" }, "currency", "ISO 4217"],
    [{ timeZone: "WIB" }, "timeZone", "IANA"],
    [{ jurisdiction: undefined, country: "ID", phone: "12" }, "phone", "not a valid phone number for ID"],
    [{ country: "IN" }, "country", "jurisdiction ID is in ID"],
    [{ consentWhatsapp: "maybe" }, "consentWhatsapp", "true or false"],
    [{ name: "Bu\u0000di" }, "name", "NUL"],
    [{ name: "Bu\ud800di" }, "name", "unpaired surrogates"],
    [{ externalId: "1.23457E+11" }, "externalId", "a spreadsheet rounded"],
    [{ phone: "6.28123e+12" }, "phone", "a spreadsheet rounded"],
    // Reasons in words ops can act on, not the validator's types.
    [{ name: "" }, "name", "is required"],
    [{ product: undefined }, "product", "is required"],
    [{ daysPastDue: undefined }, "daysPastDue", "is required"],
    [{ daysPastDue: "3000000000" }, "daysPastDue", "must be at most 2147483647"],
    [{ dueDate: "25/12/2026" }, "dueDate", "YYYY-MM-DD"],
    [{ email: "budi@" }, "email", "must be an email address"],
    [{ name: "x".repeat(201) }, "name", "must be at most 200 characters"],
  ])("rejects %o naming %s", (patch, field, reason) => {
    const result = accountFromRow({ ...row, ...patch });
    expect(result.problems).toContainEqual({ field, reason: expect.stringContaining(reason) });
    expect(result.problems!.filter((p) => p.field === field)).toHaveLength(1);
  });

  // JSON lines give typed values: one of the wrong type is named as such, not reported missing.
  it.each([
    [{ externalId: 12345 }, "externalId", "must be a string"],
    [{ name: true }, "name", "must be a string"],
    [{ product: ["card"] }, "product", "must be a string"],
    [{ dueDate: 20261225 }, "dueDate", "must be a string"],
    [{ daysPastDue: 3.5 }, "daysPastDue", "must be a non-negative whole number of days"],
    [{ daysPastDue: true }, "daysPastDue", "must be a non-negative whole number of days"],
    [{ daysPastDue: -1 }, "daysPastDue", "must be a non-negative whole number of days"],
    [{ daysPastDue: 3_000_000_000 }, "daysPastDue", "must be at most 2147483647"],
    [{ consent: { whatsapp: "yes" } }, "consent.whatsapp", "must be true or false"],
    [{ consent: { autodialedCalls: 1 } }, "consent.autodialedCalls", "must be true or false"],
    [{ consent: "yes" }, "consent", "must be an object"],
    // A key left out or null is a missing value.
    [{ externalId: undefined }, "externalId", "is required"],
    [{ externalId: null }, "externalId", "is required"],
    [{ daysPastDue: null }, "daysPastDue", "is required"],
  ])("rejects the JSON line values %o naming %s: %s", (patch, field, reason) => {
    const result = accountFromRow({ ...row, balance: undefined, balanceMinor: 100, daysPastDue: 3, ...patch });
    expect(result.problems).toEqual([{ field, reason }]);
  });

  it.each([
    [
      { jurisdiction: "us-ma", currency: "usd", balance: "12.50" },
      { jurisdiction: "US-MA", currency: "USD", balanceMinor: 1250n },
    ],
    [
      { jurisdiction: " id ", country: "ID", currency: " Idr" },
      { jurisdiction: "ID", currency: "IDR", balanceMinor: 10000n },
    ],
    [{ timeZone: "asia/jakarta" }, { timeZone: "Asia/Jakarta" }],
    [{ timeZone: "AMERICA/NEW_YORK" }, { timeZone: "America/New_York" }],
    // IANA's current names, though ICU gives the old ones as canonical
    [{ timeZone: "Asia/Kolkata" }, { timeZone: "Asia/Kolkata" }],
    [{ timeZone: "asia/kolkata" }, { timeZone: "Asia/Kolkata" }],
    // numbers a spreadsheet exported as text to keep their leading zeros
    [{ externalId: '="00456"' }, { externalId: "00456" }],
    [{ externalId: "'00789" }, { externalId: "00789" }],
    [{ phone: "'+62 812 3456 7890" }, { phone: "+6281234567890" }],
    [{ name: "'Ali' Budi" }, { name: "'Ali' Budi" }],
    [{ timeZone: "Europe/Kyiv" }, { timeZone: "Europe/Kyiv" }],
    [{ timeZone: "Asia/Calcutta" }, { timeZone: "Asia/Calcutta" }],
    [{ timeZone: "utc" }, { timeZone: "UTC" }],
    [{ timeZone: "Etc/UTC" }, { timeZone: "UTC" }],
    [{ locale: "id_ID" }, { locale: "id-ID" }],
    [{ locale: "EN-us" }, { locale: "en-US" }],
    [{ daysPastDue: "12.0" }, { daysPastDue: 12 }],
    [{ daysPastDue: 12 }, { daysPastDue: 12 }],
    [{ consent: { whatsapp: true } }, { consent: { whatsapp: true, autodialedCalls: false } }],
  ])("stores %o spelled as %o", (patch, stored) => {
    const result = accountFromRow({ ...row, ...patch });
    expect(result.problems).toBeUndefined();
    expect(result.account).toMatchObject(stored);
  });

  it("takes the jurisdiction from the country column, consent from yes/no cells, and empty cells as absent", () => {
    const result = accountFromRow({
      ...row,
      jurisdiction: undefined,
      country: "ke",
      consentWhatsapp: "Yes",
      consentAutodialedCalls: "0",
      email: "  ",
      locale: "",
    });
    expect(result.account).toMatchObject({ jurisdiction: "KE", consent: { whatsapp: true, autodialedCalls: false }, locale: "en" });
    expect(result.account?.email).toBeUndefined();
  });

  it.each([
    ["External ID", "externalId"],
    ["external_id", "externalId"],
    ["BALANCE_MINOR", "balanceMinor"],
    ["days-past-due", "daysPastDue"],
    ["Consent WhatsApp", "consentWhatsapp"],
    // Names collection systems and spreadsheets give the columns
    ["DPD", "daysPastDue"],
    ["Mobile", "phone"],
    ["Mobile Number", "phone"],
    ["phone_number", "phone"],
    ["MSISDN", "phone"],
    ["Customer Name", "name"],
    ["Debtor Name", "name"],
    ["Account Number", "externalId"],
    ["Account No", "externalId"],
    ["Loan ID", "externalId"],
    ["Outstanding", "balance"],
    ["Outstanding Amount", "balance"],
    ["Due Date", "dueDate"],
    ["Email Address", "email"],
    ["Time Zone", "timeZone"],
    ["TZ", "timeZone"],
    ["Language", "locale"],
    ["DPD days", undefined],
    ["notes", undefined],
  ])("reads header %s as column %s", (header, column) => {
    expect(importColumnOf(header)).toBe(column);
  });

  it("names the required columns a header lacks", () => {
    expect(missingImportColumns(new Set(["externalId", "name", "country", "product", "currency", "balanceMinor"]))).toEqual(["daysPastDue"]);
    expect(missingImportColumns(new Set(["externalId"]))).toEqual([
      "name",
      "jurisdiction or country",
      "product",
      "currency",
      "balance or balanceMinor",
      "daysPastDue",
    ]);
  });
});
