import { createRoute, z } from "@hono/zod-openapi";
import { randomBytes } from "node:crypto";
import { apiKeyHash } from "../../store/api-keys.ts";
import { recordAudit } from "../../store/audit.ts";
import { principalOf } from "../access.ts";
import { decodeCursor, page, pageOf, pageQuery } from "../pagination.ts";
import { ProblemError } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

const agency = z.object({
  id: z.string(),
  name: z.string(),
  endpoint: z.string(),
  commissionBps: z.number(),
  createdAt: z.string(),
});

const createAgency = createRoute({
  method: "post",
  path: "/v1/agencies",
  tags: ["agencies"],
  summary: "Register a collection agency; its API key and HMAC secret are shown once",
  description:
    'Placement notices are POSTed to `endpoint` signed `X-Tagih-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with `secret`. ' +
    "The agency calls back `POST /v1/webhooks/agencies/{id}` with `Authorization: Bearer <apiKey>` and the same signature. " +
    "Only the API key's SHA-256 is kept; the secret is kept because it signs.",
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z
            .object({
              name: z.string().trim().min(1).max(100),
              endpoint: z.url({ protocol: /^https?$/, error: "must be an http or https URL" }).max(2000),
              /** Commission on collected amounts in basis points (1500 = 15 %). */
              commissionBps: z.number().int().min(0).max(10_000),
            })
            .strict(),
        },
      },
    },
  },
  responses: {
    201: {
      description: "Registered. `apiKey` and `secret` are never shown again.",
      content: { "application/json": { schema: agency.extend({ apiKey: z.string(), secret: z.string() }) } },
    },
    400: { description: "Invalid fields" },
    409: { description: "An agency with this name exists" },
  },
});

const listAgencies = createRoute({
  method: "get",
  path: "/v1/agencies",
  tags: ["agencies"],
  summary: "List agencies by name (without credentials)",
  request: { query: pageQuery },
  responses: {
    200: { description: "A page of agencies", content: { "application/json": { schema: pageOf(agency) } } },
    400: { description: "Invalid limit or cursor" },
  },
});

const view = (a: { id: string; name: string; endpoint: string; commissionBps: number; createdAt: Date }) => ({
  id: a.id,
  name: a.name,
  endpoint: a.endpoint,
  commissionBps: a.commissionBps,
  createdAt: a.createdAt.toISOString(),
});

export function agencyRoutes({ db, logger }: ApiDeps) {
  const app = router();
  app.openapi(createAgency, async (c) => {
    const body = c.req.valid("json");
    const apiKey = `tagih_ak_${randomBytes(32).toString("base64url")}`;
    const secret = `tagih_whsec_${randomBytes(32).toString("base64url")}`;
    const created = await db.$transaction(async (tx) => {
      const [row] = await tx.agency.createManyAndReturn({
        data: [{ name: body.name, endpoint: body.endpoint, commissionBps: body.commissionBps, secret, apiKeyHash: apiKeyHash(apiKey) }],
        skipDuplicates: true,
      });
      if (!row) throw new ProblemError(409, "Conflict", `an agency named ${body.name} exists`);
      await recordAudit(tx, {
        actor: principalOf(c).keyId,
        action: "agency.register",
        target: { type: "agency", id: row.id },
        detail: { name: row.name, endpoint: row.endpoint },
      });
      return row;
    });
    logger.info({ agencyId: created.id, agency: created.name }, "agency registered");
    return c.json({ ...view(created), apiKey, secret }, 201);
  });
  app.openapi(listAgencies, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor, 1);
    const rows = await db.agency.findMany({
      where: after ? { name: { gt: String(after[0]) } } : {},
      orderBy: { name: "asc" },
      take: limit + 1,
    });
    return c.json(
      page(rows, limit, (a) => [a.name], view),
      200,
    );
  });
  return app;
}
