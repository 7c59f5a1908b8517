import { describe, expect, it } from "vitest";
import { formatMoney } from "./format.ts";
import { renderTemplate, resolveTemplate, type TemplateContext } from "./render.ts";

const budi: TemplateContext = {
  name: "Budi Santoso",
  firstName: "Budi",
  amountDue: 150_000_000n,
  currency: "IDR",
  dueDate: new Date("2026-12-25T00:00:00Z"),
  locale: "id-ID",
  timeZone: "Asia/Jakarta",
  creditor: "Bank Contoh",
};

describe("formatMoney", () => {
  it.each([
    [150_000n, "USD", "en-US", "$1,500.00"],
    [150_000_000n, "IDR", "id-ID", "Rp 1.500.000"],
    [12_345_678n, "INR", "en-IN", "₹1,23,456.78"],
    [250_050n, "KES", "sw-KE", "Ksh 2,500.50"],
    [1_000n, "JPY", "ja-JP", "￥1,000"],
    [123_456_789_012_345_678n, "USD", "en-US", "$1,234,567,890,123,456.78"],
  ])("%s minor %s in %s is %s", (minor, currency, locale, expected) => {
    expect(formatMoney(minor, currency, locale).replace(/\u00a0/g, " ")).toBe(expected);
  });
});

describe("templates", () => {
  it("renders the shipped Indonesian reminder with money and date in the debtor's locale", async () => {
    const source = await resolveTemplate("reminder", "sms", "id-ID", []);
    const text = renderTemplate(source, budi).replace(/\u00a0/g, " ");
    expect(text).toBe("Halo Budi, ini Bank Contoh. Tagihan Anda sebesar Rp 1.500.000 jatuh tempo pada 25 Desember 2026. Balas STOP untuk berhenti.");
  });

  it.each(["en", "id", "hi", "sw"])("ships a %s reminder that reads well without a due date", async (locale) => {
    const text = renderTemplate(await resolveTemplate("reminder", "sms", locale, []), { ...budi, locale, dueDate: null });
    expect(text).toContain("Budi");
    expect(text).not.toMatch(/\s[.।]/);
  });

  it("prefers the campaign's own template and falls back to English", async () => {
    const own = [{ name: "reminder", channel: "sms" as const, locale: "en", body: "Pay {{money amountDue currency}} by {{date dueDate}}" }];
    expect(renderTemplate(await resolveTemplate("reminder", "sms", "fr-FR", own), { ...budi, locale: "en-US", currency: "USD", amountDue: 999n })).toBe(
      "Pay $9.99 by December 25, 2026",
    );
  });

  it("names a missing template", async () => {
    await expect(resolveTemplate("nope", "sms", "en", [])).rejects.toThrow('no sms template "nope"');
  });

  it("fails on a variable the context does not have instead of sending a blank", () => {
    expect(() => renderTemplate("Hi {{nmae}}", budi)).toThrow(/nmae/);
  });
});
