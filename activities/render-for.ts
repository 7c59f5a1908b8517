import type { Channel } from "../domain/channel.ts";
import { withOptOutInstruction } from "../domain/keywords.ts";
import type { Account, Campaign } from "../generated/prisma/client.ts";
import { campaignTemplates, renderTemplate, resolveTemplate, contextFor } from "../templates/render.ts";

/**
 * Renders a strategy template for an account on a channel, in the account's locale; a text
 * message with the opt-out instruction its template may lack.
 * @example await renderFor("sms", "reminder", account, campaign, "Bank Contoh")
 */
export async function renderFor(channel: Channel, template: string, account: Account, campaign: Campaign, creditor: string): Promise<string> {
  const { body, locale } = await resolveTemplate(template, channel, account.locale, campaignTemplates(campaign));
  // The instruction in the template's language, which is the text's.
  return withOptOutInstruction(renderTemplate(body, contextFor(account, creditor)), channel, locale);
}
