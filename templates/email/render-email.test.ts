import { describe, expect, it } from "vitest";
import { renderEmailTemplate, resolveTemplate, type TemplateContext } from "../render.ts";

const unsubscribeUrl = "https://tagih.example.com/v1/unsubscribe/0b9f0c3e-0000-4000-8000-000000000001.email.mac";
const context = (overrides: Partial<TemplateContext> = {}) => ({
  name: "Budi Santoso",
  firstName: "Budi",
  amountDue: 150_000_000n,
  currency: "IDR",
  dueDate: new Date("2026-12-25"),
  locale: "id-ID",
  timeZone: "Asia/Jakarta",
  creditor: "Bank Contoh",
  unsubscribeUrl,
  ...overrides,
});
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");

describe("the shipped email reminder", () => {
  const cases: [string, Partial<TemplateContext>, string, string][] = [
    ["id-ID", {}, "Bank Contoh: tagihan Rp 1.500.000 jatuh tempo 25 Desember 2026", "tagihan Anda sebesar Rp 1.500.000 jatuh tempo pada 25 Desember 2026."],
    ["en-IN", { currency: "INR", amountDue: 2_500_000n }, "Bank Contoh: ₹25,000.00 due on 25 December 2026", "₹25,000.00 is due on 25 December 2026."],
    ["hi-IN", { currency: "INR", amountDue: 2_500_000n }, "Bank Contoh: ₹25,000.00 25 दिसंबर 2026 को देय", "आपकी ₹25,000.00 की राशि 25 दिसंबर 2026 को देय है।"],
    [
      "sw-KE",
      { currency: "KES", amountDue: 250_050n },
      "Bank Contoh: Ksh 2,500.50 inadaiwa tarehe 25 Desemba 2026",
      "deni lako la Ksh 2,500.50 linadaiwa tarehe 25 Desemba 2026.",
    ],
  ];
  it.each(cases)("renders subject, text and HTML in %s", async (locale, overrides, subject, sentence) => {
    const email = renderEmailTemplate((await resolveTemplate("reminder", "email", locale, [])).body, context({ locale, ...overrides }));
    expect(plain(email.subject)).toBe(subject);
    expect(plain(email.text)).toContain(sentence);
    expect(email.text).toContain(unsubscribeUrl);
    expect(email.text).not.toMatch(/<|\{\{/);
    expect(email.html).toMatch(new RegExp(`^<!doctype html>\\n<html lang="${locale.split("-")[0]}">`));
    expect(email.html).toContain(`<a clicktracking=off href="${unsubscribeUrl}">`);
    expect(plain(email.html)).toContain(`<strong>${sentence.match(/(Rp|₹|Ksh)[^ ]* ?[\d.,]+/)![0]}</strong>`);
  });

  it("says the amount is overdue without a due date", async () => {
    const email = renderEmailTemplate(
      (await resolveTemplate("reminder", "email", "en", [])).body,
      context({ locale: "en", currency: "USD", amountDue: 1234n, dueDate: null }),
    );
    expect(email.subject).toBe("Bank Contoh: $12.34 is overdue");
    expect(email.text).toContain("$12.34 is overdue.");
  });
});

describe("email templates", () => {
  const source =
    '{{!-- subject --}}\nHello {{name}}\n{{!-- text --}}\nDear {{name}} & co,\n\nUnsubscribe: {{unsubscribeUrl}}\n{{!-- html --}}\n<p title="{{name}}">Dear {{name}}</p>';

  it("escapes account data in the HTML part only", () => {
    const email = renderEmailTemplate(source, context({ name: `<script>alert("x")</script> & 'Co'` }));
    expect(email.subject).toBe(`Hello <script>alert("x")</script> & 'Co'`);
    expect(email.text).toContain(`Dear <script>alert("x")</script> & 'Co' & co,`);
    expect(email.html).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;Co&#x27;">Dear &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;Co&#x27;</p>',
    );
  });

  it("accepts the sections in any order and makes the subject one line", () => {
    const email = renderEmailTemplate("{{!-- text --}}\nBody\n{{!-- subject --}}\n  Two\n  lines  \n", context());
    expect(email).toMatchObject({ subject: "Two lines", text: "Body" });
  });

  it("derives an escaped HTML part from the text when there is no html section", () => {
    const email = renderEmailTemplate(
      "{{!-- subject --}}\nHi\n{{!-- text --}}\nDear {{name}},\nline two\n\nStop: {{unsubscribeUrl}}.",
      context({ name: "A<b>" }),
    );
    expect(email.html).toBe(`<p>Dear A&lt;b&gt;,<br>line two</p>\n<p>Stop: <a href="${unsubscribeUrl}">${unsubscribeUrl}</a>.</p>`);
  });

  it("refuses templates without subject or text, with a section twice, or with unescaped HTML output", () => {
    expect(() => renderEmailTemplate("Hi {{name}}", context())).toThrow(/subject.*text/);
    expect(() => renderEmailTemplate("{{!-- subject --}}\nHi\n", context())).toThrow(/subject.*text/);
    expect(() => renderEmailTemplate("{{!-- subject --}}\nA\n{{!-- subject --}}\nB\n{{!-- text --}}\nC", context())).toThrow(/two subject sections/);
    expect(() => renderEmailTemplate(`${source}{{{name}}}`, context())).toThrow(/unescaped/);
    expect(() => renderEmailTemplate(`${source}{{& name}}`, context())).toThrow(/unescaped/);
  });

  it("fails on an unknown field (strict), as SMS templates do", () => {
    expect(() => renderEmailTemplate("{{!-- subject --}}\n{{nope}}\n{{!-- text --}}\nx", context())).toThrow(/nope/);
  });
});
