import type twilio from "twilio";
import type { Account, Campaign } from "../../generated/prisma/client.ts";
import type { Database } from "../../runtime/database.ts";
import { applyPendingTwilioStatuses } from "../../store/twilio-status.ts";
import { formatDate, formatMoney } from "../../templates/format.ts";
import {
  campaignTemplates,
  contextFor,
  localeChain,
  namedTemplateError,
  renderTemplate,
  sameLocale,
  TemplateNotFoundError,
  type CampaignTemplate,
} from "../../templates/render.ts";
import { renderFor } from "../render-for.ts";
import { recentMessages } from "../../vendors/twilio.ts";
import { classifyTwilioError, NotSentError } from "../vendor-errors.ts";
import type { ChannelSender } from "./types.ts";

/** WhatsApp's customer-service window: free-form messages only this long after the debtor's last message. */
export const WHATSAPP_WINDOW_MS = 24 * 3600 * 1000;
/** Sent this close to the window's end, a free-form message might reach WhatsApp after it closed. */
const WINDOW_MARGIN_MS = 5 * 60 * 1000;

/** @example whatsappWindowOpen(account.lastWhatsappInboundAt, new Date()) */
export function whatsappWindowOpen(lastInboundAt: Date | null, now: Date): boolean {
  return lastInboundAt !== null && now.getTime() - lastInboundAt.getTime() < WHATSAPP_WINDOW_MS - WINDOW_MARGIN_MS;
}

/**
 * The approved template a campaign configured for a strategy template name (its own or a
 * pinned library one): the one in the debtor's locale, else their language, else English,
 * else any locale.
 */
export function contentTemplateFor(campaign: Campaign, name: string, locale: string): CampaignTemplate | undefined {
  return approvedTemplateFor(campaignTemplates(campaign), name, locale);
}

/**
 * contentTemplateFor among given templates (the preview's: the library's latest versions).
 * @example approvedTemplateFor(await templatesToPin(db, ["reminder"]), "reminder", "id-ID")
 */
export function approvedTemplateFor(stored: CampaignTemplate[], name: string, locale: string): CampaignTemplate | undefined {
  const templates = stored.filter((t) => t.channel === "whatsapp" && t.name === name && t.contentSid);
  for (const candidate of localeChain(locale)) {
    const found = templates.find((t) => sameLocale(t.locale, candidate));
    if (found) return found;
  }
  return templates[0];
}

/**
 * The variables of an approved template, as WhatsApp numbers them: those the template
 * defines (Handlebars, rendered like any template), else 1 first name, 2 amount due in the
 * debtor's currency and locale, 3 due date. WhatsApp refuses a message whose parameter is
 * empty or holds a line break, a tab or more than four spaces in a row, so each is sent on
 * one line, and an empty one (an account without a due date) as "-".
 * @example JSON.parse(contentVariables(account, template, "Bank Contoh")) // { "1": "Budi", "2": "Rp 1.500.000", "3": "25 Desember 2026" }
 */
export function contentVariables(account: Account, template: CampaignTemplate, creditor: string): string {
  if (template.contentVariables) {
    const context = contextFor(account, creditor);
    const render = (key: string, source: string) => {
      try {
        return renderTemplate(source, context);
      } catch (error) {
        throw namedTemplateError(error, `whatsapp template "${template.name}" (${template.locale})`, `contentVariables.${key}`);
      }
    };
    return JSON.stringify(Object.fromEntries(Object.entries(template.contentVariables).map(([key, source]) => [key, parameter(render(key, source))])));
  }
  return JSON.stringify({
    "1": parameter(account.name.split(/\s+/)[0] ?? account.name),
    "2": parameter(formatMoney(account.balanceMinor, account.currency, account.locale)),
    "3": parameter(account.dueDate ? formatDate(account.dueDate, account.locale) : ""),
  });
}

/** A Content template parameter WhatsApp accepts: on one line, single-spaced, never empty. */
const parameter = (text: string) => text.replace(/\s+/g, " ").trim() || "-";

/**
 * WhatsApp through Twilio's Messages API (`whatsapp:` addresses), with status callbacks to
 * the same webhook as SMS (`read` ranks above `delivered`). Inside the 24-hour window since
 * the debtor last wrote to us the rendered template goes out as free-form text; outside it
 * only the approved template the campaign configured (`contentSid`) may, else the send
 * fails permanently with `whatsapp-template-required` and the step falls back.
 * @example createWhatsappSender({ db, twilio, from: "+14155238886", creditorName, statusCallback })
 */
export function createWhatsappSender(deps: {
  db: Database;
  twilio: twilio.Twilio;
  from: string;
  creditorName: string;
  statusCallback: string;
  clock?: () => Date;
}): ChannelSender {
  const { db, twilio } = deps;
  const clock = deps.clock ?? (() => new Date());
  const from = `whatsapp:${deps.from}`;
  return {
    vendor: "twilio",
    classify: classifyTwilioError,
    applyPending: (sid) => applyPendingTwilioStatuses(db, sid),
    async send({ account, campaign, template, mayHaveSent, since }) {
      const number = account.whatsapp ?? account.phone;
      if (!number) throw new NotSentError("no-whatsapp", `account ${account.id} has no WhatsApp or phone number`);
      const to = `whatsapp:${number}`;

      const approved = contentTemplateFor(campaign, template, account.locale);
      let body: string | undefined;
      if (whatsappWindowOpen(account.lastWhatsappInboundAt, clock())) {
        try {
          body = await renderFor("whatsapp", template, account, campaign, deps.creditorName);
        } catch (error) {
          // No free-form text for this template: the approved one does inside the window too.
          if (!(error instanceof TemplateNotFoundError) || !approved) throw namedTemplateError(error, `whatsapp template "${template}" for ${account.locale}`);
        }
      }
      if (body === undefined && !approved?.contentSid) {
        throw new NotSentError("whatsapp-template-required", `no approved WhatsApp template for "${template}" and the 24-hour window is closed`);
      }

      if (mayHaveSent) {
        // What we sent this number since, that no other attempt claims.
        for (const message of await recentMessages(twilio, { to, from, since })) {
          if (body !== undefined && message.body !== body) continue;
          const claimed = await db.contactAttempt.findUnique({ where: { vendor_vendorId: { vendor: "twilio", vendorId: message.sid } }, select: { id: true } });
          if (!claimed) return { vendorId: message.sid, status: message.status };
        }
      }
      const message =
        body !== undefined
          ? await twilio.messages.create({ to, from, body, statusCallback: deps.statusCallback })
          : await twilio.messages.create({
              to,
              from,
              contentSid: approved!.contentSid!,
              contentVariables: contentVariables(account, approved!, deps.creditorName),
              statusCallback: deps.statusCallback,
            });
      return { vendorId: message.sid, status: message.status ?? "queued" };
    },
  };
}
