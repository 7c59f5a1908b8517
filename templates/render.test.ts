import { describe, expect, it } from "vitest";
import { formatMoney } from "./format.ts";
import { smsLengthProblem, sourceProblems, variablesFor } from "./check.ts";
import { templateInputSchema } from "./input.ts";
import { localeChain, renderFailure, renderTemplate, resolveTemplate, TemplateRenderError, type TemplateContext } from "./render.ts";

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
    const { body } = await resolveTemplate("reminder", "sms", "id-ID", []);
    const text = renderTemplate(body, budi).replace(/\u00a0/g, " ");
    expect(text).toBe("Halo Budi, ini Bank Contoh. Tagihan Anda sebesar Rp 1.500.000 jatuh tempo pada 25 Desember 2026. Balas STOP untuk berhenti.");
  });

  it.each(["en", "id", "hi", "sw"])("ships a %s reminder that reads well without a due date", async (locale) => {
    const text = renderTemplate((await resolveTemplate("reminder", "sms", locale, [])).body, { ...budi, locale, dueDate: null });
    expect(text).toContain("Budi");
    expect(text).not.toMatch(/\s[.।]/);
  });

  it("prefers the campaign's own template and falls back to English", async () => {
    const own = [{ name: "reminder", channel: "sms" as const, locale: "en", body: "Pay {{money amountDue currency}} by {{date dueDate}}" }];
    expect(renderTemplate((await resolveTemplate("reminder", "sms", "fr-FR", own)).body, { ...budi, locale: "en-US", currency: "USD", amountDue: 999n })).toBe(
      "Pay $9.99 by December 25, 2026",
    );
  });

  const stored = [
    { name: "reminder", channel: "sms" as const, locale: "id", body: "own id" },
    { name: "reminder", channel: "sms" as const, locale: "id", body: "library id v3", version: 3 },
    { name: "reminder", channel: "sms" as const, locale: "en", body: "library en v1", version: 1 },
    { name: "reminder", channel: "email" as const, locale: "hi", body: "library hi email", version: 1 },
  ];
  it.each([
    ["id-ID", "sms", "own id", "id", stored],
    ["id-ID", "sms", "library id v3", "id", stored.slice(1)],
    // A shipped template in the debtor's language beats a stored English one.
    ["sw-KE", "sms", "Habari", "sw", stored],
    ["fr-FR", "sms", "library en v1", "en", stored],
    ["fr-FR", "sms", "Hi", "en", []],
    ["hi-IN", "email", "library hi email", "hi", stored],
  ] as const)("for %s on %s finds the one starting %j (locale %s)", async (locale, channel, start, found, templates) => {
    const resolved = await resolveTemplate("reminder", channel, locale, [...templates]);
    expect(resolved.body.startsWith(start)).toBe(true);
    expect(resolved.locale).toBe(found);
  });

  it("names a missing template", async () => {
    await expect(resolveTemplate("nope", "sms", "en", [])).rejects.toThrow('no sms template "nope"');
  });

  it("fails on a variable the context does not have instead of sending a blank", () => {
    expect(() => renderTemplate("Hi {{nmae}}", budi)).toThrow(/nmae/);
  });

  it("names the variable a strict render lacks and where", () => {
    let failure: unknown;
    try {
      renderTemplate("Hi\nthere {{nmae}}", budi);
    } catch (error) {
      failure = error;
    }
    expect(renderFailure(failure as Error)).toBe('unknown variable "nmae" at line 2, column 9');
  });
});

describe("template input", () => {
  const sms = { name: "reminder", channel: "sms", locale: "id", body: "Halo {{firstName}}" };
  const email = "{{!-- subject --}}\nHi\n{{!-- text --}}\nHi {{name}}";
  it.each([
    [{ ...sms, body: "Halo\n{{firstName}" }, "body", /^is not a valid Handlebars template: Parse error on line 2: Expecting .*got 'INVALID'$/],
    [{ ...sms, body: "{{#if dueDate}}x{{/each}}" }, "body", /doesn't match each/],
    [{ ...sms, channel: "email" }, "body", /needs {{!-- subject --}}/],
    [{ ...sms, channel: "email", body: `${email}\n{{!-- html --}}\n{{{name}}}` }, "body", /unescaped/],
    [{ ...sms, name: "re minder" }, "name", /letters, digits/],
    [{ ...sms, locale: "Indonesian" }, "locale", /language/],
    [{ ...sms, contentSid: `HX${"0".repeat(32)}` }, "contentSid", /only WhatsApp/],
    [{ ...sms, channel: "whatsapp", contentVariables: { "1": "{{firstName}}" } }, "contentVariables", /needs a contentSid/],
    [{ ...sms, channel: "whatsapp", contentSid: `HX${"0".repeat(32)}`, contentVariables: { "1": "{{firstName" } }, "contentVariables.1", /Parse error/],
  ])("refuses %j at %s", (input, field, reason) => {
    const result = templateInputSchema.safeParse(input);
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find((i) => i.path.join(".") === field);
    expect(issue?.message).toMatch(reason);
  });

  it("accepts an email template with its sections and a WhatsApp one with Content variables", () => {
    expect(templateInputSchema.safeParse({ ...sms, channel: "email", body: email }).success).toBe(true);
    const whatsapp = {
      ...sms,
      channel: "whatsapp",
      contentSid: `HX${"a".repeat(32)}`,
      contentVariables: { "1": "{{firstName}}", "2": "{{money amountDue currency}}" },
    };
    expect(templateInputSchema.parse(whatsapp)).toEqual(whatsapp);
  });
});

describe("what a template may use", () => {
  it("names an unknown variable or helper, a misused helper and a partial, wherever they are written", () => {
    const sms = variablesFor("sms");
    expect(sourceProblems("Hi {{firstName}}, {{money amountDue currency}} {{#if dueDate}}by {{date dueDate}}{{/if}}", sms)).toEqual([]);
    // Strict rendering lets a typo inside a helper's arguments through as a blank: the source is read whole.
    expect(renderTemplate("{{#if dueDtae}}due{{/if}}", budi)).toBe("");
    expect(sourceProblems("Hi\n{{#if dueDtae}}due{{/if}}", sms)).toEqual([
      expect.stringMatching(/^unknown variable "dueDtae" at line 2, column 7 \(variables: name, /),
    ]);
    expect(sourceProblems("{{frobnicate name}}", sms)).toEqual([expect.stringMatching(/^unknown helper "frobnicate" at line 1, column 3/)]);
    expect(sourceProblems("{{date}}", sms)).toEqual(["the date helper takes one date, as in {{date dueDate}} (given 0) at line 1, column 1"]);
    expect(sourceProblems("{{> footer}}", sms)).toEqual([expect.stringMatching(/^partials/)]);
    // Email has its unsubscribe link; SMS has none.
    expect(sourceProblems("{{unsubscribeUrl}}", variablesFor("email"))).toEqual([]);
    expect(sourceProblems("{{unsubscribeUrl}}", sms)).toHaveLength(1);
  });

  it("says which helper a call without its arguments misuses, instead of a TypeError", () => {
    expect(() => renderTemplate("Due {{date}}", budi)).toThrow("the date helper takes one date, as in {{date dueDate}} (given 0) at line 1, column 5");
    expect(() => renderTemplate("{{money amountDue}}", budi)).toThrow(/^the money helper takes an amount and a currency/);
    expect(() => renderTemplate("{{date}}", budi)).toThrow(TemplateRenderError);
  });

  // Before, the opt-out instruction added at send time was not counted: a text of 1,590
  // characters passed the check and every send of it failed with Twilio's 21617.
  it.each([
    ["fits with its own STOP", `${"x".repeat(1594)} STOP {{firstName}}`, "en", undefined],
    ["fits with the instruction added (1,577 + 1 + 22)", `${"x".repeat(1577)} {{firstName}}`, "en", undefined],
    [
      "is too long once the English instruction is added",
      `${"x".repeat(1590)} {{firstName}}`,
      "en-US",
      "is 1613 characters without its variables with the opt-out instruction added at its end (23 of them; write STOP in the text to word it yourself); Twilio refuses an SMS over 1600 (error 21617)",
    ],
    ["counts the instruction in the template's language", "x".repeat(1575), "id", /^is 1602 characters without its variables with the opt-out instruction/],
    [
      "is too long with its own STOP",
      `STOP ${"x".repeat(1996)}`,
      "en",
      "is 2001 characters without its variables; Twilio refuses an SMS over 1600 (error 21617)",
    ],
    ["takes the longer side of each block", `STOP {{#if dueDate}}${"a".repeat(900)}{{else}}${"b".repeat(1596)}{{/if}}`, "en", /^is 1601 characters/],
  ])("measures an SMS's fixed text against Twilio's 1,600 characters: %s", (_case, source, locale, expected) => {
    const problem = smsLengthProblem(source, locale);
    if (expected instanceof RegExp) expect(problem).toMatch(expected);
    else expect(problem).toBe(expected);
  });

  it("refuses at input an unknown variable in the body or a Content variable, an SMS too long, and stores the locale as BCP 47 writes it", () => {
    const sms = { name: "reminder", channel: "sms", locale: "id", body: "Halo {{firstName}}" };
    const issues = (input: unknown) => templateInputSchema.safeParse(input).error?.issues.map((i) => [i.path.join("."), i.message]);
    expect(issues({ ...sms, body: "Halo {{nmae}}" })).toEqual([["body", expect.stringMatching(/^unknown variable "nmae" at line 1, column 8/)]]);
    expect(issues({ ...sms, body: "x".repeat(1700) })).toEqual([
      ["body", expect.stringMatching(/^is 1727 characters without its variables with the opt-out instruction/)],
    ]);
    const whatsapp = { ...sms, channel: "whatsapp", contentSid: `HX${"a".repeat(32)}`, contentVariables: { "1": "{{nmae}}" } };
    expect(issues(whatsapp)).toEqual([["contentVariables.1", expect.stringMatching(/^unknown variable "nmae"/)]]);
    expect(templateInputSchema.parse({ ...sms, locale: "id-id" }).locale).toBe("id-ID");
    expect(templateInputSchema.parse({ ...sms, locale: "ID" }).locale).toBe("id");
  });

  it("finds a stored template whatever the case of its locale", async () => {
    const stored = [{ name: "reminder", channel: "sms" as const, locale: "id-id", body: "stored lower" }];
    expect((await resolveTemplate("reminder", "sms", "id-ID", stored)).body).toBe("stored lower");
    expect(localeChain("ID-id")).toEqual(["id-ID", "id", "en"]);
  });
});
