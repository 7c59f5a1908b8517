import { z } from "zod";
import { durationMs } from "./duration.ts";

// ISO-8601 durations as ops write them ("PT4H", "P2D"), kept as strings in the strategy so
// the workflow that runs it keeps the exact definition it was started with.
const duration = z.string().refine((v) => {
  try {
    return durationMs(v) > 0;
  } catch {
    return false;
  }
}, 'must be an ISO-8601 duration such as "PT4H" or "P2D"');

export const contactStepSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, "must use letters, digits, - and _ only"),
  kind: z.literal("contact"),
  // SMS is the channel wired end to end today; the others arrive with their vendors.
  channel: z.enum(["sms"]),
  template: z.string().min(1).max(100),
  /** How long to wait for the vendor's outcome before moving on. */
  waitForOutcome: duration.default("P1D"),
});

export const strategySchema = z
  .object({
    version: z.literal(1).default(1),
    steps: z.array(contactStepSchema).min(1).max(100),
  })
  .refine((s) => new Set(s.steps.map((step) => step.id)).size === s.steps.length, { message: "step ids must be unique", path: ["steps"] });

export type Strategy = z.infer<typeof strategySchema>;
export type ContactStep = z.infer<typeof contactStepSchema>;
