import { describe, expect, it } from "vitest";
import type { Account } from "../generated/prisma/client.ts";
import { renderTemplate, TemplateNotFoundError, TemplateRenderError, type TemplateContext } from "../templates/render.ts";
import { classifySendgridError } from "./channels/email.ts";
import { contentVariables } from "./channels/whatsapp.ts";
import { classifyTwilioError } from "./vendor-errors.ts";

const context = {
  name: "Budi",
  firstName: "Budi",
  amountDue: 1n,
  currency: "IDR",
  dueDate: null,
  locale: "id-ID",
  timeZone: null,
  creditor: "X",
} as TemplateContext;
const renderError = () => {
  try {
    renderTemplate("Hi {{nmae}}", context);
  } catch (error) {
    return error;
  }
  throw new Error("rendered");
};

describe("our own template errors at send time", () => {
  it("are permanent (template-error), where a network error without a status stays transient", () => {
    for (const classify of [classifyTwilioError, classifySendgridError]) {
      expect(classify(new TemplateNotFoundError('no sms template "x" for locale en (nor en)'))).toMatchObject({ transient: false, code: "template-error" });
      expect(classify(renderError())).toMatchObject({ transient: false, code: "template-error", message: 'unknown variable "nmae" at line 1, column 6' });
      expect(classify(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })).transient).toBe(true);
    }
  });

  it("name the WhatsApp Content variable that does not render", () => {
    const account = { name: "Budi Santoso", balanceMinor: 1n, currency: "IDR", dueDate: null, locale: "id-ID", timeZone: null } as Account;
    const template = {
      name: "reminder",
      channel: "whatsapp" as const,
      locale: "id",
      body: "x",
      contentSid: `HX${"a".repeat(32)}`,
      contentVariables: { "1": "{{nmae}}" },
    };
    let failure: unknown;
    try {
      contentVariables(account, template, "X");
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(TemplateRenderError);
    expect((failure as TemplateRenderError).part).toEqual({ field: "contentVariables.1", reason: 'unknown variable "nmae" at line 1, column 3' });
    expect(classifyTwilioError(failure)).toMatchObject({ transient: false, code: "template-error" });
  });
});
