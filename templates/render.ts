import Handlebars from "handlebars";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Channel } from "../domain/channel.ts";
import { repoRoot } from "../runtime/config.ts";
import { formatDate, formatMoney } from "./format.ts";

const templatesDir = join(repoRoot, "templates");

/** What every template can use. Money is in minor units with its ISO 4217 currency. */
export interface TemplateContext {
  name: string;
  firstName: string;
  amountDue: bigint | number;
  currency: string;
  dueDate: Date | null;
  locale: string;
  timeZone: string | null;
  creditor: string;
}

/**
 * The context every template of an account renders with.
 * @example renderTemplate(source, contextFor(account, "Bank Contoh"))
 */
export function contextFor(
  account: { name: string; balanceMinor: bigint; currency: string; dueDate: Date | null; locale: string; timeZone: string | null },
  creditor: string,
): TemplateContext {
  return {
    name: account.name,
    firstName: account.name.split(/\s+/)[0] ?? account.name,
    amountDue: account.balanceMinor,
    currency: account.currency,
    dueDate: account.dueDate,
    locale: account.locale,
    timeZone: account.timeZone,
    creditor,
  };
}

/**
 * A stored template: one a campaign carries itself, or a library version pinned at launch.
 * WhatsApp ones may name an approved Twilio Content template and its variables.
 */
export interface CampaignTemplate {
  name: string;
  channel: Channel;
  locale: string;
  body: string;
  /** Library templates: the version pinned. */
  version?: number;
  contentSid?: string;
  /** Numbered Content template variables as Handlebars sources ({"1": "{{firstName}}"}). */
  contentVariables?: Record<string, string>;
}

/**
 * The templates a campaign renders with before the shipped ones: its own, then the library
 * versions pinned when it was launched.
 * @example resolveTemplate("reminder", "sms", account.locale, campaignTemplates(campaign))
 */
export function campaignTemplates(campaign: { templates: unknown; pinnedTemplates: unknown }): CampaignTemplate[] {
  return [...((campaign.templates ?? []) as CampaignTemplate[]), ...((campaign.pinnedTemplates ?? []) as CampaignTemplate[])];
}

/** Where a resolved template came from: a stored one (with its version when from the library) or a shipped file. */
export interface ResolvedTemplate {
  body: string;
  locale: string;
  stored?: CampaignTemplate;
}

/**
 * A template of ours that cannot be sent: none found, or it does not render for the account.
 * Our fault, not the vendor's: a send fails permanently on it (no retry) and the step falls back.
 */
export class TemplateError extends Error {
  override name = "TemplateError";
}

export class TemplateNotFoundError extends TemplateError {
  override name = "TemplateNotFoundError";
}

/** A template that does not render for an account: an unknown variable or helper, a helper misused. */
export class TemplateRenderError extends TemplateError {
  override name = "TemplateRenderError";
  constructor(
    message: string,
    /** The part of the template that failed when it is not the body (`contentVariables.1`), and why, without the template's name. */
    readonly part?: { field: string; reason: string },
  ) {
    super(message);
  }
}

/**
 * A template locale as BCP 47 writes it (language lower case, region upper case), so `id-id`
 * typed by ops is the `id-ID` accounts have; unchanged when it is not a tag.
 * @example canonicalTemplateLocale("id-id") // "id-ID"
 */
export function canonicalTemplateLocale(locale: string): string {
  try {
    return Intl.getCanonicalLocales(locale)[0] ?? locale;
  } catch {
    return locale;
  }
}

/** Locales compare without regard to case: a version stored as `id-id` serves `id-ID`. */
export const sameLocale = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

const handlebars = Handlebars.create();

/** The helpers templates may call, ours and Handlebars' built-in ones, with how to call them. */
export const TEMPLATE_HELPERS: Record<string, { args?: number; takes?: string }> = {
  money: { args: 2, takes: "an amount and a currency, as in {{money amountDue currency}}" },
  date: { args: 1, takes: "one date, as in {{date dueDate}}" },
  if: { args: 1, takes: "one value, as in {{#if dueDate}}" },
  unless: { args: 1, takes: "one value, as in {{#unless dueDate}}" },
  each: { args: 1, takes: "one list" },
  with: { args: 1, takes: "one value" },
  lookup: { args: 2, takes: "a value and a key" },
  log: {},
};

// Handlebars passes its options last, after however many arguments the template gave: a
// helper called with too few would otherwise read them from the wrong place and fail obscurely.
const argumentsOf = (helper: string, args: unknown[]): { args: unknown[]; options: Handlebars.HelperOptions } => {
  const options = args.at(-1) as Handlebars.HelperOptions;
  const given = args.slice(0, -1);
  if (given.length !== TEMPLATE_HELPERS[helper]!.args) {
    const loc = (options as { loc?: { start: { line: number; column: number } } }).loc?.start;
    const where = loc ? ` at line ${loc.line}, column ${loc.column + 1}` : "";
    throw new TemplateRenderError(`the ${helper} helper takes ${TEMPLATE_HELPERS[helper]!.takes} (given ${given.length})${where}`);
  }
  return { args: given, options };
};
// Helpers read the debtor's locale and zone from the root context so a template writes
// {{money amountDue currency}} without repeating them.
handlebars.registerHelper("money", function (this: unknown, ...all: unknown[]) {
  const { args, options } = argumentsOf("money", all);
  const root = options.data.root as TemplateContext;
  return formatMoney(args[0] as bigint | number, args[1] as string, root.locale);
});
handlebars.registerHelper("date", function (this: unknown, ...all: unknown[]) {
  const { args, options } = argumentsOf("date", all);
  const root = options.data.root as TemplateContext;
  const value = args[0] as Date | string | null;
  return value ? formatDate(value, root.locale) : "";
});

const compiled = new Map<string, Handlebars.TemplateDelegate>();
function compile(source: string): Handlebars.TemplateDelegate {
  let template = compiled.get(source);
  if (!template) {
    // SMS and voice are plain text: HTML escaping would turn "&" into "&amp;".
    template = handlebars.compile(source, { noEscape: true, strict: true });
    compiled.set(source, template);
  }
  return template;
}

/**
 * The locales tried for a debtor, most specific first: their locale, its language, English.
 * @example localeChain("id-ID") // ["id-ID", "id", "en"]
 */
export function localeChain(locale: string): string[] {
  const canonical = canonicalTemplateLocale(locale);
  return [...new Set([canonical, canonical.split("-")[0]!, "en"])];
}

/**
 * Finds a template by name for a channel and the debtor's locale, trying each locale of
 * `localeChain` in turn: a stored template (the campaign's own, then the library's pinned
 * version) first, then the shipped one in `templates/<channel>/<locale>/<name>.hbs`. A debtor
 * thus gets their language from any source before English from any.
 * @example (await resolveTemplate("reminder", "sms", "id-ID", [])).body // the Indonesian reminder
 */
export async function resolveTemplate(name: string, channel: Channel, locale: string, stored: CampaignTemplate[]): Promise<ResolvedTemplate> {
  for (const candidate of localeChain(locale)) {
    const own = stored.find((t) => t.name === name && t.channel === channel && sameLocale(t.locale, candidate));
    if (own) return { body: own.body, locale: candidate, stored: own };
    if (!/^[a-z]{2,3}(-[A-Za-z]{2,4})?$/.test(candidate) || !/^[A-Za-z0-9_-]+$/.test(name)) continue;
    try {
      return { body: await readFile(join(templatesDir, channel, candidate, `${name}.hbs`), "utf8"), locale: candidate };
    } catch {
      // not shipped in this locale; try the next
    }
  }
  throw new TemplateNotFoundError(`no ${channel} template "${name}" for locale ${locale} (nor en)`);
}

/**
 * The shipped files of a template on a channel, in every locale shipped.
 * @example await shippedTemplates("reminder", "sms") // [{ locale: "en", body: "Hi {{firstName}}, …" }, …]
 */
export async function shippedTemplates(name: string, channel: Channel): Promise<{ locale: string; body: string }[]> {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) return [];
  let locales: string[];
  try {
    locales = (await readdir(join(templatesDir, channel), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
  const found = await Promise.all(
    locales.sort().map(async (locale) => {
      try {
        return { locale, body: await readFile(join(templatesDir, channel, locale, `${name}.hbs`), "utf8") };
      } catch {
        return undefined;
      }
    }),
  );
  return found.filter((t) => t !== undefined);
}

/**
 * Renders a Handlebars template against an account's context.
 * @example renderTemplate("{{money amountDue currency}}", { ...ctx, amountDue: 150000n, currency: "USD", locale: "en-US" }) // "$1,500.00"
 */
export function renderTemplate(source: string, context: TemplateContext): string {
  try {
    return compile(source)(context).trim();
  } catch (error) {
    throw asRenderError(error);
  }
}

/**
 * A render failure saying which template it is, and which part when not the body (a missing
 * template names itself already).
 * @example namedTemplateError(error, 'sms template "reminder" for id-ID') // 'sms template "reminder" for id-ID: unknown variable "nmae" at line 1, column 6'
 */
export function namedTemplateError(error: unknown, template: string, field?: string): Error {
  if (error instanceof TemplateNotFoundError || !(error instanceof TemplateError)) return error as Error;
  return new TemplateRenderError(`${template}${field ? ` ${field}` : ""}: ${error.message}`, field ? { field, reason: error.message } : undefined);
}

/** Any failure to compile or render, as a TemplateRenderError in words (see renderFailure). */
function asRenderError(error: unknown): TemplateError {
  return error instanceof TemplateError ? error : new TemplateRenderError(renderFailure(error as Error));
}

/**
 * A strict-mode render failure in words: the variable the context lacks and where.
 * @example renderFailure(new Error('"nmae" not defined in [object Object] - 1:5')) // 'unknown variable "nmae" at line 1, column 6'
 */
export function renderFailure(error: Error): string {
  const missing = /^"([^"]+)" not defined in .* - (\d+):(\d+)$/.exec(error.message);
  // Handlebars counts columns from 0.
  return missing ? `unknown variable "${missing[1]}" at line ${missing[2]}, column ${Number(missing[3]) + 1}` : error.message;
}

/** @example validateTemplate("Hi {{name}") // throws a parse error naming the line */
export function validateTemplate(source: string): void {
  handlebars.precompile(source);
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

// An email template is one file (or campaign template body) in sections, each opened by a
// Handlebars comment on a line of its own: `{{!-- subject --}}`, `{{!-- text --}}` and,
// optionally, `{{!-- html --}}` (without it the HTML part is the text part, escaped).
const EMAIL_SECTION = /^[ \t]*\{\{!--\s*(subject|text|html)\s*--\}\}[ \t]*\r?\n?/gm;
const compiledHtml = new Map<string, Handlebars.TemplateDelegate>();

/**
 * Splits an email template into its sections, refusing one without a subject and a text
 * part, with a section twice, or with unescaped output in its HTML part.
 * @example emailSections("{{!-- subject --}}\nHi\n{{!-- text --}}\nHi {{name}}") // { subject: "Hi\n", text: "Hi {{name}}" }
 */
export function emailSections(source: string): { subject: string; text: string; html?: string } {
  const sections: Partial<Record<keyof RenderedEmail, string>> = {};
  const marks = [...source.matchAll(EMAIL_SECTION)];
  marks.forEach((mark, i) => {
    const name = mark[1] as keyof RenderedEmail;
    if (sections[name] !== undefined) throw new Error(`email template has two ${name} sections`);
    sections[name] = source.slice(mark.index + mark[0].length, marks[i + 1]?.index ?? source.length);
  });
  if (!sections.subject?.trim() || !sections.text?.trim()) throw new Error("an email template needs {{!-- subject --}} and {{!-- text --}} sections");
  if (sections.html !== undefined && /\{\{\{|\{\{~?\s*&/.test(sections.html)) {
    throw new Error("the html section of an email template must not use unescaped {{{...}}} or {{& ...}}");
  }
  return { subject: sections.subject, text: sections.text, ...(sections.html === undefined ? {} : { html: sections.html }) };
}

/**
 * Renders an email template's subject and plain-text part as plain text, and its HTML part
 * with every `{{value}}` HTML-escaped (`{{{raw}}}` is refused: account data is never markup).
 * @example renderEmailTemplate("{{!-- subject --}}\nHi\n{{!-- text --}}\nHi {{name}}", ctx) // { subject: "Hi", text: "Hi Budi", html: "<p>Hi Budi</p>" }
 */
export function renderEmailTemplate(source: string, context: TemplateContext & Record<string, unknown>): RenderedEmail {
  let sections;
  try {
    sections = emailSections(source);
  } catch (error) {
    throw asRenderError(error);
  }
  const subject = renderTemplate(sections.subject, context).replace(/\s+/g, " ");
  const text = renderTemplate(sections.text, context);
  if (sections.html === undefined) return { subject, text, html: textToHtml(text) };
  let template = compiledHtml.get(sections.html);
  try {
    if (!template) {
      template = handlebars.compile(sections.html, { strict: true });
      compiledHtml.set(sections.html, template);
    }
    return { subject, text, html: template(context).trim() };
  } catch (error) {
    throw asRenderError(error);
  }
}

const UNSUBSCRIBE_FOOTER: Record<string, string> = {
  en: "To stop receiving these emails, unsubscribe here",
  id: "Untuk berhenti menerima email ini, berhenti berlangganan di sini",
  hi: "ये ईमेल पाना बंद करने के लिए यहाँ सदस्यता समाप्त करें",
  sw: "Ili kuacha kupokea barua pepe hizi, jiondoe hapa",
};

/**
 * The email as sent: a part without the unsubscribe link gets it as a footer in the
 * account's language, so every email carries an opt-out (compliance reference, "electronic
 * opt-out") whatever its template says.
 * @example withUnsubscribeFooter({ subject: "Hi", text: "Hi", html: "<p>Hi</p>" }, url, "en").text // "Hi\n\nTo stop receiving these emails, unsubscribe here: <url>"
 */
export function withUnsubscribeFooter(email: RenderedEmail, unsubscribeUrl: string, locale: string): RenderedEmail {
  const footer = UNSUBSCRIBE_FOOTER[locale.split("-")[0]!] ?? UNSUBSCRIBE_FOOTER.en!;
  // clicktracking=off: SendGrid's click tracking must not rewrite the opt-out link.
  const htmlFooter = `<p><a clicktracking=off href="${unsubscribeUrl}">${footer}</a></p>`;
  return {
    subject: email.subject,
    text: email.text.includes(unsubscribeUrl) ? email.text : `${email.text}\n\n${footer}: ${unsubscribeUrl}`,
    html: email.html.includes(unsubscribeUrl)
      ? email.html
      : /<\/body>/i.test(email.html)
        ? email.html.replace(/<\/body>/i, (end) => `${htmlFooter}\n${end}`)
        : `${email.html}\n${htmlFooter}`,
  };
}

/** Plain text as HTML: escaped, paragraphs on blank lines, links made clickable. */
function textToHtml(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((paragraph) => {
      const escaped = Handlebars.escapeExpression(paragraph.trim()).replace(/\n/g, "<br>");
      return `<p>${escaped.replace(/https?:\/\/[^\s<]*[^\s<.,;:!?)]/g, (url) => `<a href="${url}">${url}</a>`)}</p>`;
    })
    .join("\n");
}
