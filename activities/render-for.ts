import type { Channel } from "../domain/channel.ts";
import type { Account, Campaign } from "../generated/prisma/client.ts";
import { renderTemplate, resolveTemplate, type CampaignTemplate, contextFor } from "../templates/render.ts";

/**
 * Renders a strategy template for an account on a channel, in the account's locale.
 * @example await renderFor("sms", "reminder", account, campaign, "Bank Contoh")
 */
export async function renderFor(channel: Channel, template: string, account: Account, campaign: Campaign, creditor: string): Promise<string> {
  const source = await resolveTemplate(template, channel, account.locale, campaign.templates as unknown as CampaignTemplate[]);
  return renderTemplate(source, contextFor(account, creditor));
}
