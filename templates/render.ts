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
