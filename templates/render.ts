import Handlebars from "handlebars";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Channel } from "../domain/channel.ts";
import { formatDate, formatMoney } from "./format.ts";

const templatesDir = dirname(fileURLToPath(import.meta.url));

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

/** A template a campaign carries itself; it wins over the shipped one of the same name. */
export interface CampaignTemplate {
  name: string;
  channel: Channel;
  locale: string;
  body: string;
}

export class TemplateNotFoundError extends Error {
  override name = "TemplateNotFoundError";
}

const handlebars = Handlebars.create();
// Helpers read the debtor's locale and zone from the root context so a template writes
// {{money amountDue currency}} without repeating them.
handlebars.registerHelper("money", function (this: unknown, amount: bigint | number, currency: string, options: Handlebars.HelperOptions) {
  const root = options.data.root as TemplateContext;
  return formatMoney(amount, currency, root.locale);
});
handlebars.registerHelper("date", function (this: unknown, value: Date | string | null, options: Handlebars.HelperOptions) {
  const root = options.data.root as TemplateContext;
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
 * Finds a template by name for a channel and the debtor's locale (falling back to its
 * language, then English): the campaign's own templates first, then the shipped ones in
 * `templates/<channel>/<locale>/<name>.hbs`.
 * @example await resolveTemplate("reminder", "sms", "id-ID", []) // the Indonesian reminder
 */
export async function resolveTemplate(name: string, channel: Channel, locale: string, campaignTemplates: CampaignTemplate[]): Promise<string> {
  const locales = [...new Set([locale, locale.split("-")[0]!, "en"])];
  for (const candidate of locales) {
    const own = campaignTemplates.find((t) => t.name === name && t.channel === channel && t.locale === candidate);
    if (own) return own.body;
  }
  for (const candidate of locales) {
    if (!/^[a-z]{2,3}(-[A-Za-z]{2,4})?$/.test(candidate) || !/^[A-Za-z0-9_-]+$/.test(name)) continue;
    try {
      return await readFile(join(templatesDir, channel, candidate, `${name}.hbs`), "utf8");
    } catch {
      // not shipped in this locale; try the next
    }
  }
  throw new TemplateNotFoundError(`no ${channel} template "${name}" for locale ${locale} (nor en)`);
}

/**
 * Renders a Handlebars template against an account's context.
 * @example renderTemplate("{{money amountDue currency}}", { ...ctx, amountDue: 150000n, currency: "USD", locale: "en-US" }) // "$1,500.00"
 */
export function renderTemplate(source: string, context: TemplateContext): string {
  return compile(source)(context).trim();
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
 * Renders an email template's subject and plain-text part as plain text, and its HTML part
 * with every `{{value}}` HTML-escaped (`{{{raw}}}` is refused: account data is never markup).
 * @example renderEmailTemplate("{{!-- subject --}}\nHi\n{{!-- text --}}\nHi {{name}}", ctx) // { subject: "Hi", text: "Hi Budi", html: "<p>Hi Budi</p>" }
 */
export function renderEmailTemplate(source: string, context: TemplateContext & Record<string, unknown>): RenderedEmail {
  const sections: Partial<Record<keyof RenderedEmail, string>> = {};
  const marks = [...source.matchAll(EMAIL_SECTION)];
  marks.forEach((mark, i) => {
    const name = mark[1] as keyof RenderedEmail;
    if (sections[name] !== undefined) throw new Error(`email template has two ${name} sections`);
    sections[name] = source.slice(mark.index + mark[0].length, marks[i + 1]?.index ?? source.length);
  });
  if (!sections.subject?.trim() || !sections.text?.trim()) throw new Error("an email template needs {{!-- subject --}} and {{!-- text --}} sections");
  const subject = renderTemplate(sections.subject, context).replace(/\s+/g, " ");
  const text = renderTemplate(sections.text, context);
  if (sections.html === undefined) return { subject, text, html: textToHtml(text) };
  if (/\{\{\{|\{\{~?\s*&/.test(sections.html)) throw new Error("the html section of an email template must not use unescaped {{{...}}} or {{& ...}}");
  let template = compiledHtml.get(sections.html);
  if (!template) {
    template = handlebars.compile(sections.html, { strict: true });
    compiledHtml.set(sections.html, template);
  }
  return { subject, text, html: template(context).trim() };
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
