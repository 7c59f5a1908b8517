import { createRoute, z } from "@hono/zod-openapi";
import { CHANNELS, type Channel } from "../../domain/channel.ts";
import { withOptOutInstruction } from "../../domain/keywords.ts";
import type { Account, Template } from "../../generated/prisma/client.ts";
import { approvedTemplateFor, contentVariables } from "../../activities/channels/whatsapp.ts";
import { asCampaignTemplate, createTemplateVersion, latestTemplates, templatesToPin } from "../../store/templates.ts";
import { SMS_MAX_CHARS, smsLength } from "../../templates/check.ts";
import { templateInputSchema } from "../../templates/input.ts";
import {
  contextFor,
  renderEmailTemplate,
  renderFailure,
  renderTemplate,
  resolveTemplate,
  TemplateNotFoundError,
  withUnsubscribeFooter,
  type CampaignTemplate,
  type TemplateRenderError,
} from "../../templates/render.ts";
import { decodeCursor, page, pageOf, pageQuery } from "../pagination.ts";
import { ProblemError } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";
import { unsubscribeUrl } from "./unsubscribe.ts";
import { principalOf } from "../access.ts";

const template = z.object({
  id: z.string(),
  name: z.string(),
  channel: z.enum(CHANNELS),
  locale: z.string(),
  version: z.number().int(),
  body: z.string(),
  contentSid: z.string().nullable(),
  contentVariables: z.record(z.string(), z.string()).nullable(),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
});
const view = (t: Template) => ({
  id: t.id,
  name: t.name,
  channel: t.channel as Channel,
  locale: t.locale,
  version: t.version,
  body: t.body,
  contentSid: t.contentSid,
  contentVariables: (t.contentVariables as Record<string, string> | null) ?? null,
  createdAt: t.createdAt.toISOString(),
  createdBy: t.createdBy,
});
// Versions stored before locales were canonicalised (`id-id`) are found as `id-ID`.
const keyWhere = (key: { name: string; channel: string; locale: string }) => ({
  name: key.name,
  channel: key.channel,
  locale: { equals: key.locale, mode: "insensitive" as const },
});
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const keyParams = z.object({
  name: templateInputSchema.shape.name,
  channel: z.enum(CHANNELS),
  locale: templateInputSchema.shape.locale,
});
const rendered = z.object({
  /** Where the template came from: the library (with its version) or the files shipped with Tagih. */
  source: z.enum(["library", "shipped"]),
  locale: z.string(),
  version: z.number().int().nullable(),
  /** SMS, WhatsApp and voice: the text. */
  text: z.string().optional(),
  /** Email: subject, plain-text and HTML parts. */
  email: z.object({ subject: z.string(), text: z.string(), html: z.string() }).optional(),
  /** WhatsApp with an approved template: what goes outside the 24-hour window instead of the text. */
  contentSid: z.string().optional(),
  contentVariables: z.record(z.string(), z.string()).optional(),
  /** What the vendor would refuse though it renders: an SMS over Twilio's 1,600 characters. */
  warnings: z.array(z.string()).optional(),
});

const create = createRoute({
  method: "post",
  path: "/v1/templates",
  tags: ["templates"],
  summary: "Store a new version of a template (version 1 for a new name, channel and locale)",
  description:
    "Versions are never changed: a campaign pins the latest version of each template its steps name when it is launched, so later versions only reach campaigns launched after them.",
  request: { body: { required: true, content: { "application/json": { schema: templateInputSchema } } } },
  responses: { 201: json(template, "Stored"), 400: { description: "Invalid template (the Handlebars parse error names its line)" } },
});
const list = createRoute({
  method: "get",
  path: "/v1/templates",
  tags: ["templates"],
  summary: "The latest version of every template, by name, channel and locale",
  request: {
    query: pageQuery.extend({ name: templateInputSchema.shape.name.optional(), channel: z.enum(CHANNELS).optional(), locale: z.string().max(20).optional() }),
  },
  responses: { 200: json(pageOf(template), "A page of templates"), 400: { description: "Invalid filter, limit or cursor" } },
});
const read = createRoute({
  method: "get",
  path: "/v1/templates/{name}/{channel}/{locale}",
  tags: ["templates"],
  summary: "One version of a template (the latest by default) and the list of its versions",
  request: { params: keyParams, query: z.object({ version: z.coerce.number().int().min(1).optional() }) },
  responses: {
    200: json(
      template.extend({ versions: z.array(z.object({ version: z.number().int(), createdAt: z.string(), createdBy: z.string().nullable() })) }),
      "The template",
    ),
    404: { description: "No such template or version" },
  },
});
const previewOne = createRoute({
  method: "post",
  path: "/v1/templates/{name}/{channel}/{locale}/preview",
  tags: ["templates"],
  summary: "Render one stored version (the latest by default) for an account",
  request: {
    params: keyParams,
    body: {
      required: true,
      content: { "application/json": { schema: z.object({ accountId: z.uuid(), version: z.number().int().min(1).optional() }).strict() } },
    },
  },
  responses: {
    200: json(rendered, "What the account would receive"),
    400: { description: "Invalid request, or the template uses a variable accounts do not have (named)" },
    404: { description: "No such template, version or account" },
  },
});
const preview = createRoute({
  method: "post",
  path: "/v1/templates/preview",
  tags: ["templates"],
  summary: "Render what a step naming this template would send an account in a campaign launched now",
  description: "Resolves like the worker: the account's locale, its language, then English; in each, the library's latest version before the shipped file.",
  request: {
    body: {
      required: true,
      content: { "application/json": { schema: z.object({ accountId: z.uuid(), name: templateInputSchema.shape.name, channel: z.enum(CHANNELS) }).strict() } },
    },
  },
  responses: {
    200: json(rendered, "What the account would receive"),
    400: { description: "Invalid request, or the template uses a variable accounts do not have (named)" },
    404: { description: "No such template or account" },
  },
});

export function templateRoutes({ db, logger, settings }: ApiDeps) {
  const app = router();
  const creditor = settings.twilioChannels?.creditorName ?? "";

  const findAccount = async (id: string) => {
    const account = await db.account.findUnique({ where: { id } });
    if (!account) throw new ProblemError(404, "Not found", `no account ${id}`);
    return account;
  };
  const findVersion = async (key: { name: string; channel: string; locale: string }, version: number | undefined) => {
    const found = await db.template.findFirst({ where: { ...keyWhere(key), ...(version === undefined ? {} : { version }) }, orderBy: { version: "desc" } });
    const label = `${key.name}/${key.channel}/${key.locale}`;
    if (!found) throw new ProblemError(404, "Not found", version === undefined ? `no template ${label}` : `no version ${version} of template ${label}`);
    return found;
  };
  /** Renders with the worker's renderers; a strict-mode failure is the template's fault: a 400 naming the variable. */
  const render = (channel: Channel, body: string, locale: string, account: Account, label: string, approved?: CampaignTemplate) => {
    const context = contextFor(account, creditor);
    let content: { contentSid: string; contentVariables: Record<string, string> } | undefined;
    if (approved?.contentSid) {
      // Rendered as the sender does outside the 24-hour window, so a typo there shows now.
      try {
        content = { contentSid: approved.contentSid, contentVariables: JSON.parse(contentVariables(account, approved, creditor)) as Record<string, string> };
      } catch (error) {
        const { field, reason } = (error as TemplateRenderError).part ?? { field: "contentVariables", reason: renderFailure(error as Error) };
        const approvedLabel = `${approved.name}/whatsapp/${approved.locale}${approved.version ? ` version ${approved.version}` : ""}`;
        throw new ProblemError(400, "Invalid request", `${field} of ${approvedLabel} does not render for account ${account.id}: ${reason}`, [
          { field, reason },
        ]);
      }
    }
    try {
      if (channel !== "email") {
        // Previewed as sent: with the opt-out instruction the sender adds where the template lacks one.
        const text = withOptOutInstruction(renderTemplate(body, context), channel, locale);
        const length = smsLength(text);
        const warnings =
          channel === "sms" && length > SMS_MAX_CHARS
            ? [`text is ${length} characters; Twilio refuses an SMS over ${SMS_MAX_CHARS} (error 21617), so this account's send would fail`]
            : [];
        return { text, ...content, ...(warnings.length > 0 ? { warnings } : {}) };
      }
      const unsubscribe = settings.unsubscribeSecret
        ? unsubscribeUrl(settings.publicBaseUrl, settings.unsubscribeSecret, account.id)
        : `${settings.publicBaseUrl}/v1/unsubscribe/preview`;
      // Previewed as sent: with the unsubscribe footer the sender adds where the template lacks the link.
      return { email: withUnsubscribeFooter(renderEmailTemplate(body, { ...context, unsubscribeUrl: unsubscribe }), unsubscribe, account.locale) };
    } catch (error) {
      const reason = renderFailure(error as Error);
      throw new ProblemError(400, "Invalid request", `${label} does not render for account ${account.id}: ${reason}`, [{ field: "body", reason }]);
    }
  };

  app.openapi(create, async (c) => {
    const stored = await createTemplateVersion(db, c.req.valid("json"), principalOf(c).keyId);
    logger.info({ template: `${stored.name}/${stored.channel}/${stored.locale}`, version: stored.version }, "template version stored");
    return c.json(view(stored), 201);
  });

  app.openapi(list, async (c) => {
    const { limit, cursor, ...filter } = c.req.valid("query");
    const after = decodeCursor(cursor, ["text", "text", "text"]);
    const rows = await latestTemplates(db, filter, after && { name: after[0], channel: after[1], locale: after[2] }, limit + 1);
    return c.json(
      page(rows, limit, (t) => [t.name, t.channel, t.locale], view),
      200,
    );
  });

  app.openapi(read, async (c) => {
    const key = c.req.valid("param");
    const found = await findVersion(key, c.req.valid("query").version);
    const versions = await db.template.findMany({
      where: keyWhere(key),
      orderBy: { version: "desc" },
      select: { version: true, createdAt: true, createdBy: true },
    });
    return c.json({ ...view(found), versions: versions.map((v) => ({ ...v, createdAt: v.createdAt.toISOString() })) }, 200);
  });

  app.openapi(previewOne, async (c) => {
    const key = c.req.valid("param");
    const { accountId, version } = c.req.valid("json");
    const [found, account] = await Promise.all([findVersion(key, version), findAccount(accountId)]);
    return c.json(
      {
        source: "library" as const,
        locale: found.locale,
        version: found.version,
        ...render(
          key.channel,
          found.body,
          found.locale,
          account,
          `${found.name}/${found.channel}/${found.locale} version ${found.version}`,
          asCampaignTemplate(found),
        ),
      },
      200,
    );
  });

  app.openapi(preview, async (c) => {
    const { accountId, name, channel } = c.req.valid("json");
    const account = await findAccount(accountId);
    let resolved;
    const library = await templatesToPin(db, [name]);
    try {
      resolved = await resolveTemplate(name, channel, account.locale, library);
    } catch (error) {
      if (error instanceof TemplateNotFoundError) throw new ProblemError(404, "Not found", error.message);
      throw error;
    }
    const source = resolved.stored ? ("library" as const) : ("shipped" as const);
    const approved = channel === "whatsapp" ? approvedTemplateFor(library, name, account.locale) : undefined;
    const label = resolved.stored
      ? `${name}/${channel}/${resolved.locale} version ${resolved.stored.version}`
      : `shipped ${channel}/${resolved.locale}/${name}.hbs`;
    return c.json(
      {
        source,
        locale: resolved.locale,
        version: resolved.stored?.version ?? null,
        ...render(channel, resolved.body, resolved.locale, account, label, approved),
      },
      200,
    );
  });
  return app;
}
