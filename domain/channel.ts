/** The channels Tagih can reach a debtor on. `voice` means automated (IVR) calls. */
export const CHANNELS = ["sms", "whatsapp", "voice", "email"] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * The vendor that carries a channel.
 * @example vendorFor("email") // "sendgrid"
 */
export function vendorFor(channel: Channel): "twilio" | "sendgrid" {
  return channel === "email" ? "sendgrid" : "twilio";
}
