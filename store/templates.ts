import { Prisma, type Template } from "../generated/prisma/client.ts";
import type { Database } from "../runtime/database.ts";
import type { Channel } from "../domain/channel.ts";
import { templateNamesOf, type CampaignStrategy } from "../domain/strategy.ts";
import { strategyTemplateProblems, type TemplateFieldProblem } from "../templates/check.ts";
import type { CampaignTemplate } from "../templates/render.ts";
import type { TemplateInput } from "../templates/input.ts";
import { recordAudit } from "./audit.ts";

/** Which template a version belongs to. */
export interface TemplateKey {
  name: string;
  channel: string;
  locale: string;
}

/**
 * Stores a new version of (name, channel, locale): 1 for a new template, else one more than
 * the latest. Versions are never changed afterwards, so a campaign can pin them.
 * @example await createTemplateVersion(db, { name: "reminder", channel: "sms", locale: "id", body: "Halo {{firstName}}" }, null)
 */
export async function createTemplateVersion(db: Database, input: TemplateInput, createdBy: string | null): Promise<Template> {
  return db.$transaction(async (tx) => {
    // Concurrent creations of one template take turns, so each gets its own next version.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`template:${input.name}:${input.channel}:${input.locale}`}, 0))`;
    // Versions stored before locales were canonicalised (`id-id`) count as this template's.
    const latest = await tx.template.findFirst({
      where: { name: input.name, channel: input.channel, locale: { equals: input.locale, mode: "insensitive" } },
      orderBy: { version: "desc" },
      select: { version: true },
    });
    const created = await tx.template.create({
      data: {
        name: input.name,
        channel: input.channel,
        locale: input.locale,
        version: (latest?.version ?? 0) + 1,
        body: input.body,
        contentSid: input.contentSid ?? null,
        contentVariables: input.contentVariables ?? Prisma.DbNull,
        createdBy,
      },
    });
    await recordAudit(tx, {
      actor: createdBy ?? "system",
      action: "template.create",
      target: { type: "template", id: created.id },
      detail: { name: created.name, channel: created.channel, locale: created.locale, version: created.version },
    });
    return created;
  });
}

/** Filters of the latest-versions listing; all optional. */
export interface TemplateFilter {
  name?: string;
  channel?: string;
  locale?: string;
}

/**
 * The latest version of every template matching the filter, ordered by (name, channel,
 * locale), after the key `after` (keyset pagination), at most `take`.
 * @example await latestTemplates(db, { channel: "sms" }, undefined, 51)
 */
export async function latestTemplates(db: Database, filter: TemplateFilter, after: TemplateKey | undefined, take: number): Promise<Template[]> {
  const conditions = [
    filter.name === undefined ? undefined : Prisma.sql`name = ${filter.name}`,
    filter.channel === undefined ? undefined : Prisma.sql`channel = ${filter.channel}`,
    // Locales compare without regard to case: `id-id` stored before canonicalisation is `id-ID`.
    filter.locale === undefined ? undefined : Prisma.sql`lower(locale) = lower(${filter.locale})`,
    after === undefined ? undefined : Prisma.sql`(name, channel, lower(locale)) > (${after.name}, ${after.channel}, lower(${after.locale}))`,
  ].filter((c) => c !== undefined);
  const where = conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, " AND ")}` : Prisma.empty;
  const rows = await db.$queryRaw<
    {
      id: string;
      name: string;
      channel: string;
      locale: string;
      version: number;
      body: string;
      content_sid: string | null;
      content_variables: Prisma.JsonValue;
      created_at: Date;
      created_by: string | null;
    }[]
  >`SELECT DISTINCT ON (name, channel, lower(locale)) id, name, channel, locale, version, body, content_sid, content_variables, created_at, created_by
      FROM templates ${where}
     ORDER BY name, channel, lower(locale), version DESC
     LIMIT ${take}`;
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    channel: r.channel,
    locale: r.locale,
    version: r.version,
    body: r.body,
    contentSid: r.content_sid,
    contentVariables: r.content_variables,
    createdAt: r.created_at,
    createdBy: r.created_by,
  }));
}

/**
 * What a campaign launched now pins: the latest version of every template its steps name,
 * in every channel and locale.
 * @example await templatesToPin(db, ["reminder"]) // [{ name: "reminder", channel: "sms", locale: "id", version: 3, body: "…" }, …]
 */
export async function templatesToPin(db: Database, names: string[]): Promise<CampaignTemplate[]> {
  const pinned: CampaignTemplate[] = [];
  for (const name of names) pinned.push(...(await latestTemplates(db, { name }, undefined, 10_000)).map(asCampaignTemplate));
  return pinned;
}

/** A library version as the worker renders it. */
export function asCampaignTemplate(t: Template): CampaignTemplate {
  return {
    name: t.name,
    channel: t.channel as Channel,
    locale: t.locale,
    version: t.version,
    body: t.body,
    ...(t.contentSid ? { contentSid: t.contentSid } : {}),
    ...(t.contentVariables ? { contentVariables: t.contentVariables as Record<string, string> } : {}),
  };
}

/**
 * Why a campaign (being created or changed) could not send its contact steps: a template
 * missing for a step's channel or a fallback's, or one that would not render, among its own
 * templates, the library's latest versions (what a launch now would pin) and the shipped ones.
 * @example await campaignTemplateProblems(db, input.plan, input.templates, "strategy") // [{ field: "strategy.steps.0.template", reason: "no sms template …" }]
 */
export async function campaignTemplateProblems(
  db: Database,
  plan: CampaignStrategy,
  own: CampaignTemplate[],
  givenAs: "strategy" | "variants",
): Promise<TemplateFieldProblem[]> {
  return strategyTemplateProblems(plan, { own, library: await templatesToPin(db, templateNamesOf(plan)) }, givenAs);
}
