import type { Channel } from "../domain/channel.ts";
import type { Account, Campaign } from "../generated/prisma/client.ts";
import { campaignTemplates, renderTemplate, resolveTemplate, contextFor } from "../templates/render.ts";

/**
 * Renders a strategy template for an account on a channel, in the account's locale.
 * @example await renderFor("sms", "reminder", account, campaign, "Bank Contoh")
 */
export async function renderFor(channel: Channel, template: string, account: Account, campaign: Campaign, creditor: string): Promise<string> {
  const { body } = await resolveTemplate(template, channel, account.locale, campaignTemplates(campaign));
  return renderTemplate(body, contextFor(account, creditor));
}
