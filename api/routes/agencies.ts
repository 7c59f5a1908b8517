import { createRoute, z } from "@hono/zod-openapi";
import { randomBytes } from "node:crypto";
import type { Agency } from "../../generated/prisma/client.ts";
import { apiKeyHash } from "../../store/api-keys.ts";
import { recordAudit } from "../../store/audit.ts";
import { principalOf } from "../access.ts";
import { decodeCursor, page, pageOf, pageQuery } from "../pagination.ts";
import { ProblemError, validationProblem } from "../problem.ts";
import { endpointProblem } from "../../vendors/endpoints.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

const agency = z.object({
  id: z.string(),
  name: z.string(),
  endpoint: z.string(),
  commissionBps: z.number(),
  createdAt: z.string(),
  /** When the callback credentials were last rotated (null: those of the registration). */
  credentialsRotatedAt: z.string().nullable(),
  /** Until when the key and secret replaced by the last rotation still work for callbacks. */
  previousCredentialsValidUntil: z.string().nullable(),
  /** Set: no callback is accepted until the next rotation. */
  credentialsRevokedAt: z.string().nullable(),
});

/** How long the key and secret a rotation replaces keep working: callbacks in flight still verify. */
export const PREVIOUS_CREDENTIALS_GRACE_MS = 24 * 60 * 60 * 1000;

const newCredentials = () => ({
  apiKey: `tagih_ak_${randomBytes(32).toString("base64url")}`,
  secret: `tagih_whsec_${randomBytes(32).toString("base64url")}`,
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
              // https on a public address unless TAGIH_PRIVATE_ENDPOINTS=allow (checked in the handler).
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

const agencyId = z.object({ id: z.uuid() });

const rotateCredentials = createRoute({
  method: "post",
  path: "/v1/agencies/{id}/credentials",
  tags: ["agencies"],
  summary: "Rotate an agency's callback API key and secret; the new ones are shown once",
  description:
    "Issues a new API key (only its SHA-256 is kept) and HMAC secret. The replaced key and secret keep working for callbacks for 24 hours " +
    "(`previousCredentialsValidUntil`), so callbacks in flight, signed and keyed with them, still verify while the agency switches; " +
    "a second rotation within those hours ends them at once. After a revocation the replaced credentials get no grace. " +
    "Placement and closure notices are signed with the new secret from now on. Recorded in the audit log (`agency.rotate-credentials`).",
  request: { params: agencyId },
  responses: {
    200: {
      description: "Rotated. `apiKey` and `secret` are never shown again.",
      content: { "application/json": { schema: agency.extend({ apiKey: z.string(), secret: z.string() }) } },
    },
    400: { description: "Invalid id" },
    404: { description: "No such agency" },
  },
});

const revokeCredentials = createRoute({
  method: "delete",
  path: "/v1/agencies/{id}/credentials",
  tags: ["agencies"],
  summary: "Revoke an agency's callback credentials: no callback is accepted until the next rotation",
  description:
    "Refuses (403) every callback of the agency from the next request on, with its current key and with the one a rotation replaced. " +
    "Placement and closure notices still go to the agency, signed with its secret. `POST /v1/agencies/{id}/credentials` issues new credentials. " +
    "A repeat changes nothing. Recorded in the audit log (`agency.revoke-credentials`).",
  request: { params: agencyId },
  responses: {
    200: { description: "Revoked (or already revoked)", content: { "application/json": { schema: agency } } },
    400: { description: "Invalid id" },
    404: { description: "No such agency" },
  },
});

const iso = (d: Date | null) => d?.toISOString() ?? null;

const view = (a: Agency) => ({
  id: a.id,
  name: a.name,
  endpoint: a.endpoint,
  commissionBps: a.commissionBps,
  createdAt: a.createdAt.toISOString(),
  credentialsRotatedAt: iso(a.credentialsRotatedAt),
  // A grace that is over is shown as none.
  previousCredentialsValidUntil: a.previousValidUntil && a.previousValidUntil.getTime() > Date.now() ? a.previousValidUntil.toISOString() : null,
  credentialsRevokedAt: iso(a.credentialsRevokedAt),
});

export function agencyRoutes({ db, logger, settings }: ApiDeps) {
  const app = router();
  app.openapi(createAgency, async (c) => {
    const body = c.req.valid("json");
    const refused = endpointProblem(body.endpoint, settings.privateEndpoints);
    if (refused) return validationProblem(c, [{ field: "endpoint", reason: refused }]);
    const { apiKey, secret } = newCredentials();
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
    const after = decodeCursor(cursor, ["text"]);
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
  app.openapi(rotateCredentials, async (c) => {
    const { id } = c.req.valid("param");
    const { apiKey, secret } = newCredentials();
    const rotated = await db.$transaction(async (tx) => {
      // Serialises rotations of one agency: each replaces the credentials the one before issued.
      const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM agencies WHERE id = ${id}::uuid FOR UPDATE`;
      if (!locked) throw new ProblemError(404, "Not found", `no agency ${id}`);
      const current = await tx.agency.findUniqueOrThrow({ where: { id } });
      const now = new Date();
      // Revoked credentials get no grace: the revocation said they must stop.
      const previous = current.credentialsRevokedAt
        ? { previousApiKeyHash: null, previousSecret: null, previousValidUntil: null }
        : {
            previousApiKeyHash: current.apiKeyHash,
            previousSecret: current.secret,
            previousValidUntil: new Date(now.getTime() + PREVIOUS_CREDENTIALS_GRACE_MS),
          };
      const row = await tx.agency.update({
        where: { id },
        data: { apiKeyHash: apiKeyHash(apiKey), secret, ...previous, credentialsRotatedAt: now, credentialsRevokedAt: null },
      });
      await recordAudit(tx, {
        actor: principalOf(c).keyId,
        action: "agency.rotate-credentials",
        target: { type: "agency", id },
        detail: { name: row.name, previousValidUntil: iso(row.previousValidUntil), wasRevoked: current.credentialsRevokedAt !== null },
      });
      return row;
    });
    logger.info({ agencyId: id, agency: rotated.name, previousValidUntil: rotated.previousValidUntil }, "agency callback credentials rotated");
    return c.json({ ...view(rotated), apiKey, secret }, 200);
  });
  app.openapi(revokeCredentials, async (c) => {
    const { id } = c.req.valid("param");
    const { row, changed } = await db.$transaction(async (tx) => {
      const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM agencies WHERE id = ${id}::uuid FOR UPDATE`;
      if (!locked) throw new ProblemError(404, "Not found", `no agency ${id}`);
      const current = await tx.agency.findUniqueOrThrow({ where: { id } });
      if (current.credentialsRevokedAt) return { row: current, changed: false };
      const revoked = await tx.agency.update({
        where: { id },
        data: { credentialsRevokedAt: new Date(), previousApiKeyHash: null, previousSecret: null, previousValidUntil: null },
      });
      await recordAudit(tx, {
        actor: principalOf(c).keyId,
        action: "agency.revoke-credentials",
        target: { type: "agency", id },
        detail: { name: revoked.name },
      });
      return { row: revoked, changed: true };
    });
    if (changed) logger.info({ agencyId: id, agency: row.name }, "agency callback credentials revoked");
    return c.json(view(row), 200);
  });
  return app;
}
