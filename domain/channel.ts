/** The channels Tagih can reach a debtor on. `voice` means automated (IVR) calls. */
export const CHANNELS = ["sms", "whatsapp", "voice", "email"] as const;
export type Channel = (typeof CHANNELS)[number];
