import { createRoute, z } from "@hono/zod-openapi";
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from "@temporalio/client";
import { WorkflowIdReusePolicy } from "@temporalio/common";
import { CHANNELS } from "../../domain/channel.ts";
import { segmentSchema } from "../../domain/segment.ts";
import { campaignStrategySchema, strategySchema } from "../../domain/strategy.ts";
import { campaignWorkflowId } from "../../domain/workflow-ids.ts";
import { campaignCounts } from "../../store/campaign-progress.ts";
import { validateTemplate } from "../../templates/render.ts";
import type { CampaignControl, CampaignProgress, campaignWorkflow } from "../../workflows/campaign.ts";
import { ProblemError } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

const templateSchema = z.object({
  name: z.string().min(1).max(100),
  channel: z.enum(CHANNELS),
  locale: z.string().min(2).max(20),
  body: z
    .string()
    .min(1)
    .max(5000)
    .superRefine((body, ctx) => {
      try {
        validateTemplate(body);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: `is not a valid Handlebars template: ${(error as Error).message.split("\n")[0]}` });
      }
    }),
  /** WhatsApp: the approved Twilio Content template sent outside the 24-hour window (variables 1 first name, 2 amount due, 3 due date). */
  contentSid: z
    .string()
    .regex(/^HX[0-9a-fA-F]{32}$/, "must be a Twilio Content SID (HX and 32 hex digits)")
    .optional(),
});

const campaignInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    /** One strategy for every account (the champion)… */
    strategy: strategySchema.optional(),
    /** …or weighted variants: champion, challengers, an optional no-contact holdout. */
    variants: campaignStrategySchema.shape.variants.optional(),
    segment: segmentSchema,
    templates: z.array(templateSchema).max(200).default([]),
  })
  .strict()
  .transform(({ strategy, variants, ...rest }, ctx) => {
    if ((strategy === undefined) === (variants === undefined)) {
      ctx.addIssue({ code: "custom", path: ["strategy"], message: "give exactly one of strategy and variants" });
      return z.NEVER;
    }
    const plan = campaignStrategySchema.safeParse({ variants: variants ?? [{ name: "champion", weight: 1, strategy }] });
    if (!plan.success) {
      for (const issue of plan.error.issues) ctx.addIssue({ code: "custom", path: issue.path.map(String), message: issue.message });
      return z.NEVER;
    }
    return { ...rest, plan: plan.data };
  });

const campaignSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  strategy: z.unknown(),
  segment: z.unknown(),
  templates: z.unknown(),
  workflowId: z.string().nullable(),
  launchedAt: z.string().nullable(),
  createdAt: z.string(),
});
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
    202: json(campaignSchema.extend({ alreadyLaunched: z.boolean() }), "Launched now"),
    200: json(campaignSchema.extend({ alreadyLaunched: z.boolean() }), "Launched before; nothing new was started"),
    404: { description: "No such campaign" },
    409: { description: "The campaign was cancelled" },
  },
});
const summary = createRoute({
  method: "get",
  path: "/v1/campaigns/{id}/summary",
  tags: ["campaigns"],
  summary: "Enrolment and contact counts",
  request: { params: idParam },
  responses: {
    200: json(
      z.object({
        campaignId: z.string(),
        status: z.string(),
        phase: z.enum(["draft", "enrolling", "running", "completed", "cancelled"]).describe("where the campaign workflow stands"),
        enrolled: z.number(),
        running: z.number(),
        finished: z.number(),
        attempted: z.number().describe("attempts handed to a vendor"),
        delivered: z.number(),
        failed: z.number().describe("attempts that ended undelivered, failed, or were refused before sending"),
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
  workflowId: c.workflowId,
  launchedAt: c.launchedAt?.toISOString() ?? null,
  createdAt: c.createdAt.toISOString(),
});

export function campaignRoutes({ db, temporal, logger, settings }: ApiDeps) {
  const app = router();
  const find = async (id: string) => {
    const campaign = await db.campaign.findUnique({ where: { id } });
    if (!campaign) throw new ProblemError(404, "Not found", `no campaign ${id}`);
    return campaign;
  };

  app.openapi(create, async (c) => {
    const input = c.req.valid("json");
    const campaign = await db.campaign.create({ data: { name: input.name, strategy: input.plan, segment: input.segment, templates: input.templates } });
    return c.json(present(campaign), 201);
  });

  app.openapi(read, async (c) => c.json(present(await find(c.req.valid("param").id)), 200));

  app.openapi(launch, async (c) => {
    const campaign = await find(c.req.valid("param").id);
    if (campaign.status === "cancelled") throw new ProblemError(409, "Conflict", `campaign ${campaign.id} was cancelled and cannot be launched`);
    if (campaign.status !== "draft") return c.json({ ...present(campaign), alreadyLaunched: true }, 200);
    const workflowId = campaignWorkflowId(campaign.id);
    try {
      await temporal.workflow.start<typeof campaignWorkflow>("campaignWorkflow", {
        taskQueue: settings.taskQueue,
        workflowId,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        args: [{ campaignId: campaign.id }],
      });
    } catch (error) {
      // A concurrent or earlier launch started it; recording the launch below is idempotent.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    const launched = await db.campaign.update({
      where: { id: campaign.id },
      data: { status: "running", workflowId, launchedAt: campaign.launchedAt ?? new Date() },
    });
    logger.info({ campaignId: campaign.id, workflowId }, "campaign launched");
    return c.json({ ...present(launched), alreadyLaunched: false }, 202);
  });

  for (const [action, text] of [
    ["pause", "Pause every account of the campaign where it stands"],
    ["resume", "Resume a paused campaign"],
    ["cancel", "Cancel the campaign: no account is contacted again"],
  ] as const) {
    app.openapi(control(action, text), async (c) => {
      const campaign = await find(c.req.valid("param").id);
      const { from, to } = TRANSITIONS[action];
      if (campaign.status === to) return c.json(present(campaign), 200);
      if (!from.includes(campaign.status)) throw new ProblemError(409, "Conflict", `cannot ${action} campaign ${campaign.id}: it is ${campaign.status}`);
      const updated = await db.campaign.update({ where: { id: campaign.id }, data: { status: to } });
      if (campaign.workflowId) {
        await temporal.workflow
          .getHandle(campaign.workflowId)
          .signal<[CampaignControl]>("campaignControl", action)
          .catch((error: unknown) => {
            if (!(error instanceof WorkflowNotFoundError)) throw error;
          });
      }
      logger.info({ campaignId: campaign.id, action }, `campaign ${action}d`);
      return c.json(present(updated), 200);
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
