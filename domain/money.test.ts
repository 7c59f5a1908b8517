import { describe, expect, it } from "vitest";
import { isCurrency, minorUnitDigits, toMajorString, toMinorUnits } from "./money.ts";

describe("money", () => {
  it.each([
    ["1500.5", "USD", 150050n],
    ["0.1", "USD", 10n],
    ["19.99", "USD", 1999n],
    ["1500000", "IDR", 150000000n],
    ["1000", "JPY", 1000n],
    ["1.234", "KWD", 1234n],
    ["12345678901234567.89", "USD", 1234567890123456789n],
    ["2.50", "JPY", undefined],
    ["1500.0", "JPY", 1500n], // as spreadsheets print numbers
    ["19.9900", "USD", 1999n],
    ["150.000", "IDR", undefined], // Rp 150,000 with a thousands separator, not Rp 150
    ["2.500", "USD", undefined],
    ["1500.50", "IDR", 150050n],
    ["1.005", "USD", undefined],
    ["1,5", "USD", undefined],
    ["", "USD", undefined],
  ])("%s %s is %s minor units", (major, currency, minor) => {
    if (minor === undefined) expect(() => toMinorUnits(major, currency)).toThrow(RangeError);
    else expect(toMinorUnits(major, currency)).toBe(minor);
  });

  it.each([
    [150050n, "USD", "1500.50"],
    [-5n, "USD", "-0.05"],
    [1000n, "JPY", "1000"],
  ])("%s minor %s is %s", (minor, currency, major) => {
    expect(toMajorString(minor, currency)).toBe(major);
  });

  it.each([
    ["IDR", true],
    ["usd", false],
    ["ABC", false],
    ["XOF", true], // CFA franc: X-codes can be money
    ["XTS", false], // reserved for testing
    ["XXX", false], // no currency
    ["XAU", false], // gold
  ])("%s is a currency: %s", (code, ok) => {
    expect(isCurrency(code)).toBe(ok);
  });

  it.each([
    ["IDR", 2],
    ["JPY", 0],
    ["KWD", 3],
    ["usd", 2],
  ])("%s has %i minor-unit digits", (code, digits) => {
    expect(minorUnitDigits(code)).toBe(digits);
  });

  it("names an unknown currency", () => {
    expect(() => minorUnitDigits("RPH")).toThrow("unknown ISO 4217 currency: RPH");
  });
});
