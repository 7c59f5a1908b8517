import { z } from "zod";
import { CHANNELS } from "../domain/channel.ts";
import { smsLengthProblem, sourceProblems, variablesFor } from "./check.ts";
import { canonicalTemplateLocale, emailSections, validateTemplate } from "./render.ts";

/** Why a Handlebars source does not compile: the parse error's first line and where it is. */
function parseError(source: string): string | undefined {
  try {
    validateTemplate(source);
    return undefined;
  } catch (error) {
    // A parse error reads "Parse error on line 2:", a picture with a caret, then what was
    // expected: keep the line and the expectation.
    const lines = (error as Error).message.split("\n");
    return lines.length > 1 ? `${lines[0]} ${lines.at(-1)}` : lines[0];
  }
}

/**
 * A template's locale, stored as BCP 47 writes it whatever case ops typed (`id-id` is the
 * `id-ID` accounts have), so one locale is one template and debtors find it.
 */
export const templateLocaleSchema = z
  .string()
  .regex(/^[a-z]{2,3}(-[a-z]{2,4})?$/i, 'must be a language ("id") or a locale ("id-ID")')
  .transform(canonicalTemplateLocale);

/**
 * A template as ops write it (a campaign's own, or a library version): Handlebars checked for
 * syntax, email bodies for their sections, WhatsApp Content SIDs and variables for shape.
 */
export const templateInputSchema = z
  .object({
    /** The name strategy steps use (`"template": "reminder"`). */
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9_-]+$/, "may hold only letters, digits, - and _"),
    channel: z.enum(CHANNELS),
    locale: templateLocaleSchema,
    body: z.string().min(1).max(20_000),
    /** WhatsApp: the approved Twilio Content template sent outside the 24-hour window. */
    contentSid: z
      .string()
      .regex(/^HX[0-9a-fA-F]{32}$/, "must be a Twilio Content SID (HX and 32 hex digits)")
      .optional(),
    /** WhatsApp: the Content template's numbered variables as Handlebars (default 1 first name, 2 amount due, 3 due date). */
    contentVariables: z.record(z.string().regex(/^[1-9][0-9]?$/, "variable keys are numbers 1–99"), z.string().min(1).max(1000)).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const error = parseError(t.body);
    if (error) ctx.addIssue({ code: "custom", path: ["body"], message: `is not a valid Handlebars template: ${error}` });
    else {
      // Refused now rather than failing every send (or sending a blank) later.
      for (const problem of sourceProblems(t.body, variablesFor(t.channel))) ctx.addIssue({ code: "custom", path: ["body"], message: problem });
      if (t.channel === "email") {
        try {
          emailSections(t.body);
        } catch (sections) {
          ctx.addIssue({ code: "custom", path: ["body"], message: (sections as Error).message });
        }
      }
      const tooLong = t.channel === "sms" ? smsLengthProblem(t.body, t.locale) : undefined;
      if (tooLong) ctx.addIssue({ code: "custom", path: ["body"], message: tooLong });
    }
    if (t.channel !== "whatsapp") {
      for (const key of ["contentSid", "contentVariables"] as const) {
        if (t[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "only WhatsApp templates have one" });
      }
    }
    if (t.contentVariables && !t.contentSid) ctx.addIssue({ code: "custom", path: ["contentVariables"], message: "needs a contentSid" });
    for (const [key, source] of Object.entries(t.contentVariables ?? {})) {
      const variableError = parseError(source);
      if (variableError) ctx.addIssue({ code: "custom", path: ["contentVariables", key], message: `is not a valid Handlebars template: ${variableError}` });
      else
        for (const problem of sourceProblems(source, variablesFor(t.channel)))
          ctx.addIssue({ code: "custom", path: ["contentVariables", key], message: problem });
    }
  });

export type TemplateInput = z.output<typeof templateInputSchema>;
