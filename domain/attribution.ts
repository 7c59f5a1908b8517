import { z } from "zod";

const windowDays = z.number().int().min(0).max(90);

/**
 * How a campaign attributes payments to its touches (reference: mis.md, "Attribution"): the
 * last eligible touch within its channel's window, and a promise's payment up to its due date
 * plus `promiseGraceDays`. Defaults: 7 days for SMS, WhatsApp and voice, 5 for email.
 */
export const attributionSchema = z
  .object({
    windowDays: z
      .object({
        sms: windowDays.default(7),
        whatsapp: windowDays.default(7),
        voice: windowDays.default(7),
        email: windowDays.default(5),
      })
      .strict()
      .prefault({}),
    promiseGraceDays: z.number().int().min(0).max(30).default(2),
  })
  .strict();

export type Attribution = z.output<typeof attributionSchema>;

/** The settings of a campaign that gave none. */
export const DEFAULT_ATTRIBUTION: Attribution = attributionSchema.parse({});
