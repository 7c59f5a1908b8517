import { createRoute, z } from "@hono/zod-openapi";
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from "@temporalio/client";
import { WorkflowIdReusePolicy } from "@temporalio/common";
import { attributionSchema, type Attribution } from "../../domain/attribution.ts";
import { launchRefusal, scheduleSchema, startAtOf, type Schedule } from "../../domain/schedule.ts";
import { segmentSchema } from "../../domain/segment.ts";
import { agencyStepsOf, campaignStrategySchema, notifyStepsOf, strategySchema, templateNamesOf, type CampaignStrategy } from "../../domain/strategy.ts";
import { endpointProblem } from "../../vendors/endpoints.ts";
import { campaignWorkflowId } from "../../domain/workflow-ids.ts";
import { CampaignStatus, type Prisma } from "../../generated/prisma/client.ts";
import { campaignCounts } from "../../store/campaign-progress.ts";
import { campaignTemplateProblems, templatesToPin } from "../../store/templates.ts";
import { strategyTemplateProblems, whatsappWithoutContent } from "../../templates/check.ts";
import { templateInputSchema } from "../../templates/input.ts";
import type { CampaignTemplate } from "../../templates/render.ts";
import type { CampaignControl, CampaignProgress, campaignWorkflow } from "../../workflows/campaign.ts";
import { recordAudit } from "../../store/audit.ts";
import { principalOf } from "../access.ts";
import { decodeCursor, page, pageOf, pageQuery } from "../pagination.ts";
import { fieldProblems, ProblemError, validationProblem, type FieldProblem } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

/** Two templates for the same name, channel and locale: which one a step renders would be arbitrary. */
function uniqueTemplates(templates: { name: string; channel: string; locale: string }[], ctx: z.RefinementCtx) {
  const seen = new Map<string, number>();
  templates.forEach((t, i) => {
    const key = JSON.stringify([t.name, t.channel, t.locale.toLowerCase()]);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else ctx.addIssue({ code: "custom", path: [i], message: `repeats templates.${first} (the same name, channel and locale)` });
  });
}

// The fields of a campaign as ops write them; a draft's update is validated by the same rules
// after merging it into the stored draft.
const campaignFields = z.object({
  name: z.string().trim().min(1).max(200),
  /** One strategy for every account (the champion)… */
  strategy: strategySchema.optional(),
  /** …or weighted variants: champion, challengers, an optional no-contact holdout. */
  variants: campaignStrategySchema.shape.variants.optional(),
  segment: segmentSchema,
  /** The campaign's own templates; they win over the library's and the shipped ones. */
  templates: z.array(templateInputSchema).max(200).superRefine(uniqueTemplates).default([]),
  schedule: scheduleSchema.default({}),
  attribution: attributionSchema.prefault({}),
});

const campaignInput = campaignFields.strict().transform(({ strategy, variants, ...rest }, ctx) => {
  if ((strategy === undefined) === (variants === undefined)) {
    ctx.addIssue({ code: "custom", path: ["strategy"], message: "give exactly one of strategy and variants" });
    return z.NEVER;
  }
  const plan = campaignStrategySchema.safeParse({ variants: variants ?? [{ name: "champion", weight: 1, strategy }] });
  if (!plan.success) {
    for (const issue of plan.error.issues) ctx.addIssue({ code: "custom", path: issue.path.map(String), message: issue.message });
    return z.NEVER;
  }
  return { ...rest, plan: plan.data, variantsGiven: variants !== undefined };
});

// A change to a draft is a JSON Merge Patch (RFC 7386) of its fields: objects merge key by
// key, null removes a key, arrays (variants, templates) replace. The merged draft is then
// validated as a whole, exactly like a new campaign, so a 400 names every invalid field at
// once: here the fields are only described.
const asAtCreation = (description: string) => z.unknown().describe(description);
const campaignPatch = z
  .object({
    name: asAtCreation("the new name"),
    strategy: asAtCreation("a strategy as at creation; replaces the draft's strategy or variants"),
    variants: asAtCreation("variants as at creation; replace the draft's strategy or variants"),
    segment: asAtCreation("merged into the draft's segment: the criteria given replace theirs, null removes one (null for the whole segment: every account)"),
    templates: asAtCreation("templates as at creation; replace the draft's (null: none)"),
    schedule: asAtCreation("merged into the draft's schedule: null removes startAt or endAt"),
    attribution: asAtCreation("merged into the draft's attribution settings: the windows given replace theirs, null restores a default"),
  })
  .partial();

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * RFC 7386 JSON Merge Patch.
 * @example mergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 } }) // { a: 1, b: { d: 3, e: 4 } }
 */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const merged: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    // Own properties only, and defined rather than assigned: a "__proto__" key stays a key
    // (which validation then refuses) instead of replacing the object's prototype.
    if (value === null) delete merged[key];
    else
      Object.defineProperty(merged, key, {
        value: mergePatch(Object.hasOwn(merged, key) ? merged[key] : undefined, value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return merged;
}

const campaignSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  strategy: z.unknown(),
  segment: z.unknown(),
  templates: z.unknown(),
  schedule: z.object({ startAt: z.string().optional(), endAt: z.string().optional() }),
  attribution: z.object({
    windowDays: z.object({ sms: z.number(), whatsapp: z.number(), voice: z.number(), email: z.number() }),
    promiseGraceDays: z.number(),
  }),
  /** The library versions pinned at launch (empty for a draft). */
  pinnedTemplates: z.array(z.object({ name: z.string(), channel: z.string(), locale: z.string(), version: z.number() })),
  workflowId: z.string().nullable(),
  launchedAt: z.string().nullable(),
  createdAt: z.string(),
});
const CAMPAIGN_STATUSES = Object.values(CampaignStatus) as [CampaignStatus, ...CampaignStatus[]];
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const idParam = z.object({ id: z.uuid() });

const create = createRoute({
  method: "post",
  path: "/v1/campaigns",
  tags: ["campaigns"],
  summary: "Create a draft campaign with its strategy, segment and templates",
  request: { body: { required: true, content: { "application/json": { schema: campaignInput } } } },
  responses: { 201: json(campaignSchema, "Created"), 400: { description: "Invalid campaign" } },
});
const list = createRoute({
  method: "get",
  path: "/v1/campaigns",
  tags: ["campaigns"],
  summary: "Campaigns, newest first",
  request: { query: pageQuery.extend({ status: z.enum(CAMPAIGN_STATUSES).optional() }) },
  responses: { 200: json(pageOf(campaignSchema), "A page of campaigns"), 400: { description: "Invalid status, limit or cursor" } },
});
const update = createRoute({
  method: "patch",
  path: "/v1/campaigns/{id}",
  tags: ["campaigns"],
  summary: "Change a draft campaign",
  description:
    "A JSON Merge Patch (RFC 7386) of the fields of a new campaign: `segment`, `schedule` and `attribution` merge into the draft's (null removes a key), " +
    "`strategy` or `variants` replaces the strategy, `templates` the templates. The result is validated like a new campaign. " +
    "Launched campaigns cannot change (409, whatever the body).",
  request: { params: idParam, body: { required: true, content: { "application/json": { schema: campaignPatch } } } },
  responses: {
    200: json(campaignSchema, "The campaign after the change"),
    400: { description: "Invalid fields" },
    404: { description: "No such campaign" },
    409: { description: "The campaign is not a draft" },
  },
});
const remove = createRoute({
  method: "delete",
  path: "/v1/campaigns/{id}",
  tags: ["campaigns"],
  summary: "Delete a draft campaign",
  request: { params: idParam },
  responses: { 204: { description: "Deleted" }, 404: { description: "No such campaign" }, 409: { description: "The campaign is not a draft" } },
});
const read = createRoute({
  method: "get",
  path: "/v1/campaigns/{id}",
  tags: ["campaigns"],
  request: { params: idParam },
  responses: { 200: json(campaignSchema, "The campaign"), 404: { description: "No such campaign" } },
});
const launch = createRoute({
  method: "post",
  path: "/v1/campaigns/{id}/launch",
  tags: ["campaigns"],
  summary: "Launch: enrol the segment and start one workflow per account (idempotent)",
  request: { params: idParam },
  responses: {
    202: json(
      campaignSchema.extend({
        alreadyLaunched: z.boolean(),
        warnings: z.array(z.string()).optional().describe("what the launch allowed but may not be meant, e.g. WhatsApp steps without an approved template"),
      }),
      "Launched now",
    ),
    200: json(campaignSchema.extend({ alreadyLaunched: z.boolean() }), "Launched before; nothing new was started"),
    404: { description: "No such campaign" },
    409: { description: "The campaign was cancelled, or its schedule has ended" },
  },
});
const summary = createRoute({
  method: "get",
  path: "/v1/campaigns/{id}/summary",
  tags: ["campaigns"],
  summary: "Enrolment and contact counts",
  description:
    "enrolled, running, finished and outcomes count the campaign's enrolments. attempted, delivered and failed are the totals of " +
    "`GET /v1/campaigns/{id}/report` over every day, summed over currencies: the same rollup and the same definitions.",
  request: { params: idParam },
  responses: {
    200: json(
      z.object({
        campaignId: z.string(),
        status: z.string(),
        phase: z.enum(["draft", "scheduled", "enrolling", "running", "completed", "cancelled"]).describe("where the campaign workflow stands"),
        enrolled: z.number(),
        running: z.number(),
        finished: z.number(),
        attempted: z.number().describe("attempts handed to the vendor, which may have refused them (the report's `attempted`)"),
        delivered: z.number().describe("attempts delivered or read (the report's `delivered`)"),
        failed: z.number().describe("attempts handed to the vendor that ended undelivered, failed or canceled (the report's `undelivered`)"),
        outcomes: z.record(z.string(), z.number()),
      }),
      "Counts",
    ),
    404: { description: "No such campaign" },
  },
});

const control = (action: CampaignControl, summary: string) =>
  createRoute({
    method: "post",
    path: `/v1/campaigns/{id}/${action}`,
    tags: ["campaigns"],
    summary,
    request: { params: idParam },
    responses: {
      200: json(campaignSchema, "The campaign after the change"),
      404: { description: "No such campaign" },
      409: { description: "Not possible in the campaign's status" },
    },
  });

// Which statuses each control applies to, and the status it leads to.
const TRANSITIONS: Record<CampaignControl, { from: string[]; to: "paused" | "running" | "cancelled" }> = {
  pause: { from: ["running"], to: "paused" },
  resume: { from: ["paused"], to: "running" },
  cancel: { from: ["draft", "running", "paused"], to: "cancelled" },
};

type CampaignRow = Awaited<ReturnType<ApiDeps["db"]["campaign"]["findUniqueOrThrow"]>>;
const present = (c: CampaignRow) => ({
  id: c.id,
  name: c.name,
  status: c.status,
  strategy: c.strategy,
  segment: c.segment,
  templates: c.templates,
  schedule: c.schedule as Schedule,
  attribution: c.attribution as Attribution,
  pinnedTemplates: (c.pinnedTemplates as unknown as CampaignTemplate[]).map(({ name, channel, locale, version }) => ({
    name,
    channel,
    locale,
    version: version!,
  })),
  workflowId: c.workflowId,
  launchedAt: c.launchedAt?.toISOString() ?? null,
  createdAt: c.createdAt.toISOString(),
});

/** The columns a validated campaign input is stored in. */
const stored = (input: z.output<typeof campaignInput>) => ({
  name: input.name,
  strategy: input.plan as unknown as Prisma.InputJsonValue,
  segment: input.segment,
  templates: input.templates as unknown as Prisma.InputJsonValue,
  schedule: input.schedule,
  attribution: input.attribution,
});

export function campaignRoutes({ db, temporal, logger, settings }: ApiDeps) {
  const app = router();
  const find = async (id: string) => {
    const campaign = await db.campaign.findUnique({ where: { id } });
    if (!campaign) throw new ProblemError(404, "Not found", `no campaign ${id}`);
    return campaign;
  };

  /** Placement steps naming no registered agency: their journeys could never place anyone. */
  const unknownAgencies = async (plan: CampaignStrategy, givenAs: "strategy" | "variants"): Promise<FieldProblem[]> => {
    const steps = agencyStepsOf(plan);
    if (steps.length === 0) return [];
    const known = new Set((await db.agency.findMany({ where: { name: { in: steps.map((s) => s.agency) } }, select: { name: true } })).map((a) => a.name));
    return steps
      .filter((s) => !known.has(s.agency))
      .map((s) => ({
        field: givenAs === "strategy" ? `strategy.steps.${s.step}.agency` : `variants.${s.variant}.strategy.steps.${s.step}.agency`,
        reason: `names no registered agency: ${s.agency}`,
      }));
  };

  /** Notify steps whose URL this deployment does not send to (`TAGIH_PRIVATE_ENDPOINTS`). */
  const refusedNotifyUrls = (plan: CampaignStrategy, givenAs: "strategy" | "variants"): FieldProblem[] =>
    notifyStepsOf(plan).flatMap((s) => {
      const reason = endpointProblem(s.url, settings.privateEndpoints);
      const at = givenAs === "strategy" ? `strategy.steps.${s.step}.url` : `variants.${s.variant}.strategy.steps.${s.step}.url`;
      return reason ? [{ field: at, reason }] : [];
    });

  app.openapi(create, async (c) => {
    const input = c.req.valid("json");
    const givenAs = input.variantsGiven ? "variants" : "strategy";
    // A step whose template is missing or does not render would fail every send it makes.
    const unknown = [
      ...refusedNotifyUrls(input.plan, givenAs),
      ...(await unknownAgencies(input.plan, givenAs)),
      ...(await campaignTemplateProblems(db, input.plan, input.templates, givenAs)),
    ];
    if (unknown.length > 0) return validationProblem(c, unknown);
    const campaign = await db.$transaction(async (tx) => {
      const created = await tx.campaign.create({ data: stored(input) });
      await recordAudit(tx, {
        actor: principalOf(c).keyId,
        action: "campaign.create",
        target: { type: "campaign", id: created.id },
        detail: { name: created.name },
      });
      return created;
    });
    logger.info({ campaignId: campaign.id }, "campaign created");
    return c.json(present(campaign), 201);
  });

  app.openapi(list, async (c) => {
    const { limit, cursor, status } = c.req.valid("query");
    const after = decodeCursor(cursor, ["timestamp", "uuid"]);
    const rows = await db.campaign.findMany({
      where: {
        ...(status ? { status } : {}),
        ...(after ? { OR: [{ createdAt: { lt: after[0] } }, { createdAt: after[0], id: { lt: after[1] } }] } : {}),
      },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: limit + 1,
    });
    return c.json(
      page(rows, limit, (r) => [r.createdAt.toISOString(), r.id], present),
      200,
    );
  });

  const notDraft = (campaign: CampaignRow, what: string) =>
    new ProblemError(409, "Conflict", `campaign ${campaign.id} is ${campaign.status}; only drafts ${what}`);

  // A launched campaign cannot change whatever the body: say that before the route's
  // validation says what is wrong with the body.
  app.patch("/v1/campaigns/:id", async (c, next) => {
    const id = idParam.shape.id.safeParse(c.req.param("id"));
    const campaign = id.success ? await db.campaign.findUnique({ where: { id: id.data } }) : null;
    if (campaign && campaign.status !== "draft") throw notDraft(campaign, "change");
    await next();
  });

  app.openapi(update, async (c) => {
    const campaign = await find(c.req.valid("param").id);
    if (campaign.status !== "draft") throw notDraft(campaign, "change");
    // The raw body says which fields were given (the parsed one fills defaults in).
    const changes = (await c.req.json()) as Record<string, unknown>;
    const plan = campaign.strategy as unknown as CampaignStrategy;
    const draft = {
      name: campaign.name,
      variants: plan.variants,
      segment: campaign.segment,
      templates: campaign.templates,
      schedule: campaign.schedule,
      attribution: campaign.attribution,
    };
    const merged = mergePatch(draft, changes) as Record<string, unknown>;
    // A strategy replaces the stored variants (giving both is refused like at creation).
    if ("strategy" in changes && !("variants" in changes)) delete merged.variants;
    const input = campaignInput.safeParse(merged);
    if (!input.success) return validationProblem(c, fieldProblems(input.error));
    const givenAs = input.data.variantsGiven ? "variants" : "strategy";
    const unknown = [
      ...refusedNotifyUrls(input.data.plan, givenAs),
      ...(await unknownAgencies(input.data.plan, givenAs)),
      ...(await campaignTemplateProblems(db, input.data.plan, input.data.templates, givenAs)),
    ];
    if (unknown.length > 0) return validationProblem(c, unknown);
    // Only a draft changes: a launch between the read and this write wins.
    const { count } = await db.$transaction(async (tx) => {
      const updated = await tx.campaign.updateMany({ where: { id: campaign.id, status: "draft" }, data: stored(input.data) });
      if (updated.count > 0) {
        const detail = { fields: Object.keys(changes) };
        await recordAudit(tx, { actor: principalOf(c).keyId, action: "campaign.update", target: { type: "campaign", id: campaign.id }, detail });
      }
      return updated;
    });
    if (count === 0) throw notDraft(await find(campaign.id), "change");
    logger.info({ campaignId: campaign.id, fields: Object.keys(changes) }, "campaign updated");
    return c.json(present(await find(campaign.id)), 200);
  });

  app.openapi(remove, async (c) => {
    const campaign = await find(c.req.valid("param").id);
    const { count } = await db.$transaction(async (tx) => {
      const deleted = await tx.campaign.deleteMany({ where: { id: campaign.id, status: "draft" } });
      if (deleted.count > 0) {
        await recordAudit(tx, {
          actor: principalOf(c).keyId,
          action: "campaign.delete",
          target: { type: "campaign", id: campaign.id },
          detail: { name: campaign.name },
        });
      }
      return deleted;
    });
    if (count === 0) throw notDraft(await find(campaign.id), "can be deleted");
    logger.info({ campaignId: campaign.id }, "campaign deleted");
    return c.body(null, 204);
  });

  app.openapi(read, async (c) => c.json(present(await find(c.req.valid("param").id)), 200));

  /** Tells a campaign's workflow; one not started yet is told by the launch that starts it. */
  const signalControl = (workflowId: string, action: CampaignControl) =>
    temporal.workflow
      .getHandle(workflowId)
      .signal<[CampaignControl]>("campaignControl", action)
      .catch((error: unknown) => {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      });

  app.openapi(launch, async (c) => {
    const campaign = await find(c.req.valid("param").id);
    if (campaign.status === "cancelled") throw new ProblemError(409, "Conflict", `campaign ${campaign.id} was cancelled and cannot be launched`);
    if (campaign.status !== "draft") return c.json({ ...present(campaign), alreadyLaunched: true }, 200);
    const schedule = campaign.schedule as Schedule;
    const refusal = launchRefusal(schedule, new Date());
    if (refusal) throw new ProblemError(409, "Conflict", `campaign ${campaign.id} cannot be launched: ${refusal}`);
    const plan = campaign.strategy as unknown as CampaignStrategy;
    const unknown = await unknownAgencies(plan, "variants");
    if (unknown.length > 0) throw new ProblemError(409, "Conflict", `campaign ${campaign.id} cannot be launched: ${unknown.map((u) => u.reason).join("; ")}`);
    // Pinned before the workflow starts, so no account renders before the versions are fixed.
    const pinned = await templatesToPin(db, templateNamesOf(plan));
    // Checked against the very versions pinned: a draft, or the library, may predate the checks at saving.
    const broken = await strategyTemplateProblems(plan, { own: campaign.templates as unknown as CampaignTemplate[], library: pinned }, "variants");
    if (broken.length > 0) {
      throw new ProblemError(409, "Conflict", `campaign ${campaign.id} cannot be launched: ${broken.map((b) => `${b.field} ${b.reason}`).join("; ")}`, broken);
    }
    const workflowId = campaignWorkflowId(campaign.id);
    // The draft becomes running before its workflow exists: a pause or cancel from then on
    // finds it running and is passed on below, and one before wins over this launch. Only the
    // draft as read is claimed: the pins, the schedule and the checks above were made from it,
    // so a change committed since (its updatedAt moved) must not be launched with them.
    const claimed = await db.$transaction(async (tx) => {
      const updated = await tx.campaign.updateMany({
        where: { id: campaign.id, status: "draft", updatedAt: campaign.updatedAt },
        data: { status: "running", workflowId, launchedAt: new Date(), pinnedTemplates: pinned as unknown as Prisma.InputJsonValue },
      });
      if (updated.count > 0) {
        await recordAudit(tx, {
          actor: principalOf(c).keyId,
          action: "campaign.launch",
          target: { type: "campaign", id: campaign.id },
          detail: { workflowId },
        });
      }
      return updated.count > 0;
    });
    if (!claimed) {
      const now = await find(campaign.id);
      if (now.status === "cancelled") throw new ProblemError(409, "Conflict", `campaign ${campaign.id} was cancelled and cannot be launched`);
      if (now.status === "draft") {
        throw new ProblemError(
          409,
          "Conflict",
          `campaign ${campaign.id} was changed while it was being launched; nothing was launched: launch it again to launch the change`,
        );
      }
      return c.json({ ...present(now), alreadyLaunched: true }, 200);
    }
    try {
      await temporal.workflow.start<typeof campaignWorkflow>("campaignWorkflow", {
        taskQueue: settings.taskQueue,
        workflowId,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        args: [{ campaignId: campaign.id, startAt: startAtOf(schedule, new Date()), endAt: schedule.endAt }],
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
        // Nothing runs: back to a draft, so a retry launches it.
        await db.$transaction(async (tx) => {
          const reverted = await tx.campaign.updateMany({
            where: { id: campaign.id, status: "running", workflowId },
            data: { status: "draft", workflowId: null, launchedAt: null, pinnedTemplates: [] },
          });
          if (reverted.count > 0) {
            const detail = { workflowId, error: (error as Error).message };
            await recordAudit(tx, { actor: principalOf(c).keyId, action: "campaign.launch-failed", target: { type: "campaign", id: campaign.id }, detail });
          }
        });
        throw error;
      }
    }
    // A pause or cancel that came while the workflow was being started found nothing to signal.
    const launched = await find(campaign.id);
    if (launched.status === "paused" || launched.status === "cancelled") {
      await signalControl(workflowId, launched.status === "paused" ? "pause" : "cancel");
    }
    logger.info({ campaignId: campaign.id, workflowId }, "campaign launched");
    const warnings = whatsappWithoutContent(plan, { own: campaign.templates as unknown as CampaignTemplate[], library: pinned });
    return c.json({ ...present(launched), alreadyLaunched: false, ...(warnings.length > 0 ? { warnings } : {}) }, 202);
  });

  for (const [action, text] of [
    ["pause", "Pause every account of the campaign where it stands"],
    ["resume", "Resume a paused campaign"],
    ["cancel", "Cancel the campaign: no account is contacted again"],
  ] as const) {
    app.openapi(control(action, text), async (c) => {
      const campaign = await find(c.req.valid("param").id);
      const { from, to } = TRANSITIONS[action];
      // Compare and set from the status read: a launch or another control in between changes
      // it, and the move is decided again on the new one (a cancel of a draft being launched
      // cancels the running campaign).
      let now = campaign;
      for (;;) {
        if (now.status === to) return c.json(present(now), 200);
        if (!from.includes(now.status)) throw new ProblemError(409, "Conflict", `cannot ${action} campaign ${campaign.id}: it is ${now.status}`);
        const was = now.status;
        const moved = await db.$transaction(async (tx) => {
          const updated = await tx.campaign.updateMany({ where: { id: campaign.id, status: was }, data: { status: to } });
          if (updated.count > 0) {
            await recordAudit(tx, {
              actor: principalOf(c).keyId,
              action: `campaign.${action}`,
              target: { type: "campaign", id: campaign.id },
              detail: { from: was },
            });
          }
          return updated.count > 0;
        });
        now = await find(campaign.id);
        if (moved) break;
      }
      // A launch still starting the workflow signals what it finds once the workflow exists.
      if (now.workflowId) await signalControl(now.workflowId, action);
      logger.info({ campaignId: campaign.id, action }, `campaign ${action}d`);
      return c.json(present(now), 200);
    });
  }

  /** The campaign workflow's own view; the stored status once the workflow is gone. */
  const campaignPhase = async (campaign: CampaignRow): Promise<CampaignProgress["phase"] | "draft"> => {
    if (!campaign.workflowId) return "draft";
    try {
      return (await temporal.workflow.getHandle(campaign.workflowId).query<CampaignProgress>("campaignProgress")).phase;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError || campaign.status === "completed" || campaign.status === "cancelled") {
        return campaign.status === "cancelled" ? "cancelled" : "completed";
      }
      throw error;
    }
  };

  app.openapi(summary, async (c) => {
    const campaign = await find(c.req.valid("param").id);
    const [counts, phase] = await Promise.all([campaignCounts(db, [campaign.id]), campaignPhase(campaign)]);
    return c.json({ campaignId: campaign.id, status: campaign.status, phase, ...counts.get(campaign.id)! }, 200);
  });
  return app;
}
