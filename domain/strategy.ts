import { z } from "zod";
import { durationMs } from "./duration.ts";

/** The longest wait a strategy may ask for: a year, leap day included. */
export const MAX_DURATION_DAYS = 366;

// ISO-8601 durations as ops write them ("PT4H", "P2D"), kept as strings in the strategy so
// the workflow that runs it keeps the exact definition it was started with. Bounded: a wait
// of billions of days is no instant a timer can reach.
const duration = z.string().superRefine((v, ctx) => {
  let ms: number;
  try {
    ms = durationMs(v);
  } catch {
    ctx.addIssue({ code: "custom", message: 'must be an ISO-8601 duration such as "PT4H" or "P2D"' });
    return;
  }
  if (ms <= 0) ctx.addIssue({ code: "custom", message: "must be longer than zero" });
  else if (ms > MAX_DURATION_DAYS * 86_400_000) ctx.addIssue({ code: "custom", message: `must be at most ${MAX_DURATION_DAYS} days (P${MAX_DURATION_DAYS}D)` });
});
const stepId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "must use letters, digits, - and _ only");
const minorAmount = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/, "must be a non-negative integer")]).transform(String);

/** Channels with a sender wired end to end; the others arrive with their vendors. */
export const SENDABLE_CHANNELS = ["sms", "email", "whatsapp", "voice"] as const;
const sendable = z.enum(SENDABLE_CHANNELS, { error: `must be one of ${SENDABLE_CHANNELS.join(", ")} (other channels are not available yet)` });

export const contactStepSchema = z
  .strictObject({
    id: stepId,
    kind: z.literal("contact"),
    channel: sendable,
    template: z.string().min(1).max(100),
    /** Tried in order when the contact fails permanently, is not delivered, or is not allowed. */
    fallbacks: z.array(sendable).max(3).default([]),
    /** How long to wait for the vendor's outcome before moving on. */
    waitForOutcome: duration.default("P1D"),
  })
  .superRefine((step, ctx) => {
    // A channel is tried once per contact: a repeat would never run, and means a typo.
    step.fallbacks.forEach((channel, i) => {
      if (channel === step.channel || step.fallbacks.indexOf(channel) < i)
        ctx.addIssue({ code: "custom", path: ["fallbacks", i], message: `${channel} is already tried in this step: each channel once` });
    });
  });

export const waitStepSchema = z
  .strictObject({
    id: stepId,
    kind: z.literal("wait"),
    duration: duration.optional(),
    /** Until the next occurrence of a local time of day in the debtor's zone. */
    until: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a local time HH:mm")
      .optional(),
  })
  .refine((w) => (w.duration === undefined) !== (w.until === undefined), { message: "give exactly one of duration and until", path: ["duration"] });

export const conditionSchema = z.union([
  z.object({ paid: z.literal(true) }).strict(),
  z.object({ promised: z.literal(true) }).strict(),
  z.object({ balanceAtLeast: minorAmount }).strict(),
  z
    .object({
      daysPastDue: z
        .object({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })
        .strict()
        .refine((r) => r.min === undefined || r.max === undefined || r.max >= r.min, {
          message: "must not be below min: the branch could never be taken",
          path: ["max"],
        }),
    })
    .strict(),
  z.object({ lastOutcome: z.enum(["delivered", "failed", "not-allowed", "no-outcome"]) }).strict(),
]);

export const branchStepSchema = z.strictObject({
  id: stepId,
  kind: z.literal("branch"),
  when: conditionSchema,
  /** Step to go to when the condition holds; otherwise `else`, or the next step. */
  then: stepId,
  else: stepId.optional(),
});

export const actionStepSchema = z.discriminatedUnion("action", [
  z.strictObject({
    id: stepId,
    kind: z.literal("action"),
    action: z.literal("notify"),
    /** What the external system should do: suspend the service, consider a write-off, escalate. */
    purpose: z.enum(["suspend-service", "recommend-write-off", "escalate"]),
    url: z.url({ protocol: /^https?$/ }),
  }),
  z.strictObject({
    id: stepId,
    kind: z.literal("action"),
    /** Place the account with a collection agency; the strategy waits until the agency recalls it. */
    action: z.literal("place-with-agency"),
    agency: z.string().min(1).max(100),
  }),
]);

/**
 * The outcomes Tagih gives journeys itself. An end step may not claim one: a strategy ending
 * `paid` would show payments nobody made in the campaign's summary.
 */
export const SYSTEM_OUTCOMES = ["paid", "cancelled", "contacted", "not-contacted", "holdout", "strategy-loop"] as const;

export const endStepSchema = z.strictObject({
  id: stepId,
  kind: z.literal("end"),
  outcome: z
    .string()
    .min(1)
    .max(50)
    .refine((outcome) => !(SYSTEM_OUTCOMES as readonly string[]).includes(outcome.trim().toLowerCase()), {
      error: `must not be one Tagih gives journeys itself (${SYSTEM_OUTCOMES.join(", ")}): name how your strategy ended, such as "exhausted"`,
    })
    .default("ended"),
});

export const stepSchema = z.discriminatedUnion("kind", [contactStepSchema, waitStepSchema, branchStepSchema, actionStepSchema, endStepSchema]);

export const strategySchema = z
  .strictObject({
    version: z.literal(1).default(1),
    steps: z.array(stepSchema).min(1).max(100),
    /** Where the strategy resumes when a promise to pay is broken (default: where it paused). */
    brokenPromiseStep: stepId.optional(),
    /** Days after a promise's due date before it counts as broken. */
    promiseGraceDays: z.number().int().min(0).max(30).default(2),
  })
  .superRefine((s, ctx) => {
    const ids = s.steps.map((step) => step.id);
    if (new Set(ids).size !== ids.length) ctx.addIssue({ code: "custom", path: ["steps"], message: "step ids must be unique" });
    const known = new Set(ids);
    s.steps.forEach((step, i) => {
      if (step.kind !== "branch") return;
      for (const key of ["then", "else"] as const) {
        const target = step[key];
        if (target && !known.has(target)) ctx.addIssue({ code: "custom", path: ["steps", i, key], message: `names no step of this strategy: ${target}` });
      }
    });
    if (s.brokenPromiseStep && !known.has(s.brokenPromiseStep)) {
      ctx.addIssue({ code: "custom", path: ["brokenPromiseStep"], message: `names no step of this strategy: ${s.brokenPromiseStep}` });
    }
    for (const loop of loopsWithoutWait(s.steps)) {
      ctx.addIssue({
        code: "custom",
        path: ["steps", loop.step, loop.key],
        message: `loops back to step ${loop.path[0]!} with no wait step on the way (${[...loop.path, loop.path[0]!].join(" → ")}): a loop must pass through a wait step`,
      });
    }
  });

/**
 * The branches that close a loop with no `wait` step in it: an account walking such a loop
 * would go round without pausing (a contact's wait for its outcome does not count, since an
 * outcome known at once, or a channel never lawful, does not wait at all). Other steps only
 * go forward, so every loop has a branch going back to an earlier step or to itself.
 * @example loopsWithoutWait([{ id: "b", kind: "branch", when: { paid: true }, then: "b" }]) // [{ step: 0, key: "then", path: ["b"] }]
 */
export function loopsWithoutWait(
  steps: readonly { id: string; kind: string; then?: string; else?: string }[],
): { step: number; key: "then" | "else"; path: string[] }[] {
  const index = new Map(steps.map((step, i) => [step.id, i]));
  const next = (i: number): number[] => {
    const step = steps[i]!;
    if (step.kind === "end") return [];
    if (step.kind !== "branch") return [i + 1];
    return [index.get(step.then!), step.else === undefined ? i + 1 : index.get(step.else)].filter((j): j is number => j !== undefined);
  };
  const loops: { step: number; key: "then" | "else"; path: string[] }[] = [];
  steps.forEach((step, from) => {
    if (step.kind !== "branch") return;
    for (const key of ["then", "else"] as const) {
      const target = step[key];
      const to = target === undefined ? undefined : index.get(target);
      if (to === undefined || to > from || steps[to]!.kind === "wait") continue;
      // Breadth-first from the target, never through a wait step, looking for the branch itself.
      const cameFrom = new Map<number, number>([[to, -1]]);
      const queue = [to];
      while (queue.length > 0 && !cameFrom.has(from)) {
        const at = queue.shift()!;
        for (const j of next(at)) {
          if (j >= steps.length || cameFrom.has(j) || steps[j]!.kind === "wait") continue;
          cameFrom.set(j, at);
          queue.push(j);
        }
      }
      if (!cameFrom.has(from)) continue;
      const path: string[] = [];
      for (let at = from; at !== -1; at = cameFrom.get(at)!) path.unshift(steps[at]!.id);
      loops.push({ step: from, key, path });
    }
  });
  return loops;
}

/** A variant's share, relative to the others' (80 and 20, or 4 and 1). */
const weight = z.number().positive().max(1_000_000);

export const variantSchema = z.union([
  z.object({ name: z.string().min(1).max(50), weight, strategy: strategySchema }).strict(),
  /** No contact at all: measures what the campaign adds over doing nothing. */
  z.object({ name: z.string().min(1).max(50), weight, holdout: z.literal(true) }).strict(),
]);

/** What a campaign stores: its variants (a single strategy is the one champion). */
export const campaignStrategySchema = z
  .strictObject({ variants: z.array(variantSchema).min(1).max(10) })
  .refine((s) => new Set(s.variants.map((v) => v.name)).size === s.variants.length, { message: "variant names must be unique", path: ["variants"] })
  .refine((s) => s.variants.some((v) => !("holdout" in v)), { message: "at least one variant must contact accounts", path: ["variants"] });

export type CampaignStrategy = z.output<typeof campaignStrategySchema>;
export type Strategy = z.output<typeof strategySchema>;
export type Step = z.output<typeof stepSchema>;
export type ContactStep = z.output<typeof contactStepSchema>;
export type Condition = z.output<typeof conditionSchema>;
export type Variant = z.output<typeof variantSchema>;

/**
 * The agencies a campaign's placement steps name, each with where it stands in the plan.
 * @example agencyStepsOf(plan) // [{ variant: 0, step: 2, agency: "Acme Recoveries" }]
 */
export function agencyStepsOf(plan: CampaignStrategy): { variant: number; step: number; agency: string }[] {
  return plan.variants.flatMap((v, variant) =>
    "strategy" in v
      ? v.strategy.steps.flatMap((s, step) => (s.kind === "action" && s.action === "place-with-agency" ? [{ variant, step, agency: s.agency }] : []))
      : [],
  );
}

/** The `notify` steps of every variant, with where they are (the URLs they POST to are checked at input). */
export function notifyStepsOf(plan: CampaignStrategy): { variant: number; step: number; url: string }[] {
  return plan.variants.flatMap((v, variant) =>
    "strategy" in v ? v.strategy.steps.flatMap((s, step) => (s.kind === "action" && s.action === "notify" ? [{ variant, step, url: s.url }] : [])) : [],
  );
}

/**
 * The template names a campaign's contact steps use, in every variant: what it pins from the
 * template library at launch (on every channel, since fallbacks reuse the step's template).
 * @example templateNamesOf({ variants: [{ name: "champion", weight: 1, strategy }] }) // ["reminder"]
 */
export function templateNamesOf(plan: CampaignStrategy): string[] {
  const names = plan.variants.flatMap((v) => ("strategy" in v ? v.strategy.steps : [])).flatMap((step) => (step.kind === "contact" ? [step.template] : []));
  return [...new Set(names)].sort();
}
