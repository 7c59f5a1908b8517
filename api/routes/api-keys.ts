import { createRoute, z } from "@hono/zod-openapi";
import { apiKeyHash, generateApiKey, ROLES } from "../../store/api-keys.ts";
import { recordAudit } from "../../store/audit.ts";
import { principalOf } from "../access.ts";
import { decodeCursor, page, pageOf, pageQuery } from "../pagination.ts";
import { ProblemError } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

const apiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    agencyId: z.string().nullable(),
    createdBy: z.string().nullable().describe("the key that created it; null for the first admin key"),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable().describe("to the minute"),
  })
  .openapi("ApiKey");

const createKey = createRoute({
  method: "post",
  path: "/v1/api-keys",
  tags: ["api keys"],
  summary: "Create an API key; the key itself is in this response only",
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z
            .object({
              name: z.string().trim().min(1).max(100),
              role: z.enum(ROLES),
              agencyId: z.uuid().optional().describe("required for the agency role, refused for the others"),
            })
            .strict()
            .superRefine((body, ctx) => {
              if (body.role === "agency" && !body.agencyId) ctx.addIssue({ code: "custom", path: ["agencyId"], message: "is required for the agency role" });
              if (body.role !== "agency" && body.agencyId) ctx.addIssue({ code: "custom", path: ["agencyId"], message: "is only for the agency role" });
            }),
        },
      },
    },
  },
  responses: {
    201: {
      description: "Created. `key` is never shown again; only its SHA-256 is kept.",
      content: { "application/json": { schema: apiKey.extend({ key: z.string() }) } },
    },
    400: { description: "Invalid fields, or no such agency" },
  },
});

const listKeys = createRoute({
  method: "get",
  path: "/v1/api-keys",
  tags: ["api keys"],
  summary: "List API keys, oldest first (never the keys themselves)",
  request: { query: pageQuery },
  responses: {
    200: { description: "A page of keys", content: { "application/json": { schema: pageOf(apiKey) } } },
    400: { description: "Invalid limit or cursor" },
  },
});

const revokeKey = createRoute({
  method: "delete",
  path: "/v1/api-keys/{id}",
  tags: ["api keys"],
  summary: "Revoke an API key: it is refused from the next request on",
  request: { params: z.object({ id: z.uuid() }) },
  responses: {
    200: { description: "Revoked (also when it already was)", content: { "application/json": { schema: apiKey } } },
    404: { description: "No such key" },
    409: { description: "The last admin key cannot be revoked" },
  },
});

type KeyRow = Awaited<ReturnType<ApiDeps["db"]["apiKey"]["findUniqueOrThrow"]>>;
const view = (k: KeyRow) => ({
  id: k.id,
  name: k.name,
  role: k.role as (typeof ROLES)[number],
  agencyId: k.agencyId,
  createdBy: k.createdBy,
  createdAt: k.createdAt.toISOString(),
  revokedAt: k.revokedAt?.toISOString() ?? null,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
});

export function apiKeyRoutes({ db, logger }: ApiDeps) {
  const app = router();

  app.openapi(createKey, async (c) => {
    const body = c.req.valid("json");
    const { keyId } = principalOf(c);
    if (body.agencyId && !(await db.agency.findUnique({ where: { id: body.agencyId }, select: { id: true } })))
      throw new ProblemError(400, "Invalid request", `no agency ${body.agencyId}`, [{ field: "agencyId", reason: "no such agency" }]);
    const key = generateApiKey(body.role);
    const created = await db.$transaction(async (tx) => {
      const row = await tx.apiKey.create({
        data: { name: body.name, role: body.role, agencyId: body.agencyId ?? null, keyHash: apiKeyHash(key), createdBy: keyId },
      });
      await recordAudit(tx, {
        actor: keyId,
        action: "api-key.create",
        target: { type: "api-key", id: row.id },
        detail: { name: row.name, role: row.role, agencyId: row.agencyId },
      });
      return row;
    });
    logger.info({ keyId: created.id, role: created.role, by: keyId }, "API key created");
    return c.json({ ...view(created), key }, 201);
  });

  app.openapi(listKeys, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor, ["timestamp", "uuid"]);
    const rows = await db.apiKey.findMany({
      where: after ? { OR: [{ createdAt: { gt: after[0] } }, { createdAt: after[0], id: { gt: after[1] } }] } : {},
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      take: limit + 1,
    });
    return c.json(
      page(rows, limit, (k) => [k.createdAt.toISOString(), k.id], view),
      200,
    );
  });

  app.openapi(revokeKey, async (c) => {
    const { id } = c.req.valid("param");
    const { keyId } = principalOf(c);
    const revoked = await db.$transaction(async (tx) => {
      // Serialises revocations, so two admins cannot revoke the last two admin keys at once.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('tagih:revoke-api-key'))`;
      const found = await tx.apiKey.findUnique({ where: { id } });
      if (!found) throw new ProblemError(404, "Not found", `no API key ${id}`);
      if (found.revokedAt) return found;
      if (found.role === "admin" && (await tx.apiKey.count({ where: { role: "admin", revokedAt: null } })) <= 1)
        throw new ProblemError(409, "Conflict", "the last admin key cannot be revoked; create another admin key first");
      const row = await tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
      await recordAudit(tx, { actor: keyId, action: "api-key.revoke", target: { type: "api-key", id }, detail: { name: row.name, role: row.role } });
      return row;
    });
    logger.info({ keyId: id, by: keyId }, "API key revoked");
    return c.json(view(revoked), 200);
  });
  return app;
}
