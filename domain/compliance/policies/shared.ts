import type { ChannelWindows, ConsentRequirement, ContactWindow, Weekday } from "../types.ts";

/** The same window for every channel. */
export function everyChannel(window: ContactWindow): ChannelWindows {
  return { sms: window, whatsapp: window, voice: window, email: window };
}

export const EVERY_DAY: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
export const MONDAY_TO_SATURDAY: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat"];

/** Every jurisdiction: business-initiated WhatsApp messages need the debtor's opt-in. */
export const WHATSAPP_OPT_IN: ConsentRequirement = {
  channel: "whatsapp",
  consent: "whatsapp",
  source: "WhatsApp Business Messaging Policy: opt-in before business-initiated messages",
};
