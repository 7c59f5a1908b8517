import { createRoute, z } from "@hono/zod-openapi";
import type { Account } from "../../generated/prisma/client.ts";
import { accountInputSchema } from "../../domain/account-input.ts";
import { currencyKeptAgainst, currencyKeptReason, namedColumns, upsertAccounts } from "../../store/accounts.ts";
import { reconcilePayments } from "../../store/payments.ts";
import { principalOf } from "../access.ts";
import { decodeCursor, page, pageOf, pageQuery } from "../pagination.ts";
import { problem, ProblemError, validationProblem } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

const upsertAccountsRoute = createRoute({
  method: "post",
  path: "/v1/accounts",
  tags: ["accounts"],
  summary:
    "Create or update a batch of accounts (upsert by externalId, all or nothing; an update keeps the optional fields an account leaves out); payments that arrived for them before are applied",
  request: {
    body: { required: true, content: { "application/json": { schema: z.object({ accounts: z.array(accountInputSchema).min(1).max(1000) }).strict() } } },
  },
  responses: {
    200: {
      description: "Every account was stored",
      content: {
        "application/json": {
          schema: z.object({
            created: z.number(),
            updated: z.number(),
            accounts: z.array(z.object({ id: z.string(), externalId: z.string(), created: z.boolean() })),
          }),
        },
      },
    },
    400: { description: "Invalid accounts; nothing was stored" },
    422: { description: "A currency change for an account with payments, promises or journeys (each named); nothing was stored" },
  },
});

const accountSchema = z.object({
  id: z.string(),
  externalId: z.string(),
  name: z.string(),
  phone: z.string().nullable(),
  email: z.string().nullable(),
  whatsapp: z.string().nullable(),
  timeZone: z.string().nullable(),
  locale: z.string(),
  jurisdiction: z.string(),
  product: z.string(),
  currency: z.string(),
  balanceMinor: z.string().openapi({ description: "Outstanding amount in minor units, as a digit string" }),
  daysPastDue: z.number(),
  dueDate: z.string().nullable(),
  consent: z.object({ whatsapp: z.boolean(), autodialedCalls: z.boolean() }),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const accountView = (a: Account): z.infer<typeof accountSchema> => ({
  id: a.id,
  externalId: a.externalId,
  name: a.name,
  phone: a.phone,
  email: a.email,
  whatsapp: a.whatsapp,
  timeZone: a.timeZone,
  locale: a.locale,
  jurisdiction: a.jurisdiction,
  product: a.product,
  currency: a.currency,
  balanceMinor: a.balanceMinor.toString(),
  daysPastDue: a.daysPastDue,
  dueDate: a.dueDate?.toISOString().slice(0, 10) ?? null,
  consent: { whatsapp: a.consentWhatsapp, autodialedCalls: a.consentAutodialed },
  createdAt: a.createdAt.toISOString(),
  updatedAt: a.updatedAt.toISOString(),
});

/** How many of an account's latest attempts and payments its page shows. */
const RECENT = 20;

const listAccounts = createRoute({
  method: "get",
  path: "/v1/accounts",
  tags: ["accounts"],
  summary: "Accounts, or the one with an external id (`?externalId=`): how ops find the id the account's routes take",
  request: { query: pageQuery.extend({ externalId: z.string().trim().min(1).max(100).optional() }) },
  responses: {
    200: { description: "A page of accounts", content: { "application/json": { schema: pageOf(accountSchema) } } },
    400: { description: "Invalid limit, cursor or externalId" },
  },
});

const readAccount = createRoute({
  method: "get",
  path: "/v1/accounts/{id}",
  tags: ["accounts"],
  summary: "An account with what stands on it (holds, opt-outs, open promises), its journeys, and its latest attempts and payments",
  request: { params: z.object({ id: z.uuid() }) },
  responses: {
    200: {
      description: "The account",
      content: {
        "application/json": {
          schema: accountSchema.extend({
            holds: z.array(z.object({ kind: z.string(), note: z.string().nullable(), since: z.string() })),
            optOuts: z.array(z.object({ channel: z.string(), source: z.string(), since: z.string() })),
            promises: z.array(
              z.object({
                id: z.string(),
                amountMinor: z.string(),
                currency: z.string(),
                dueDate: z.string(),
                status: z.string(),
                source: z.string(),
                createdAt: z.string(),
              }),
            ),
            journeys: z.array(
              z.object({
                campaignId: z.string(),
                variant: z.string(),
                status: z.string(),
                outcome: z.string().nullable(),
                enrolledAt: z.string(),
                finishedAt: z.string().nullable(),
              }),
            ),
            attempts: z.array(
              z.object({
                id: z.string(),
                campaignId: z.string(),
                stepId: z.string(),
                channel: z.string(),
                status: z.string(),
                errorCode: z.string().nullable(),
                sentAt: z.string().nullable(),
                updatedAt: z.string(),
              }),
            ),
            payments: z.array(z.object({ reference: z.string(), amountMinor: z.string(), currency: z.string(), paidAt: z.string() })),
          }),
        },
      },
    },
    404: { description: "No such account" },
  },
});

export function accountRoutes({ db, temporal, logger }: ApiDeps) {
  const app = router();
  app.openapi(upsertAccountsRoute, async (c) => {
    const { accounts } = c.req.valid("json");
    const duplicate = accounts.findIndex((a, i) => accounts.findIndex((b) => b.externalId === a.externalId) !== i);
    if (duplicate >= 0) return validationProblem(c, [{ field: `accounts.${duplicate}.externalId`, reason: "appears twice in this batch" }]);
    const kept = await currencyKeptAgainst(db, accounts);
    if (kept.length > 0)
      return problem(
        c,
        422,
        "Currency kept",
        "an account with payments, promises or journeys keeps its currency",
        kept.map(({ index, currency }) => ({ field: `accounts.${index}.currency`, reason: currencyKeptReason(currency) })),
      );
    // The optional fields each account names: the ones it leaves out keep what is stored.
    const raw = (await c.req.json<{ accounts: Record<string, unknown>[] }>()).accounts;
    // Audited with the upsert: it can rewrite a stored balance. Ids only, no personal data.
    const stored = await upsertAccounts(
      db,
      accounts,
      raw.map((a) => namedColumns(a)),
      (rows) => ({
        actor: principalOf(c).keyId,
        action: "account.upsert",
        target: { type: "account", id: rows.length === 1 ? rows[0]!.id : null },
        detail: {
          created: rows.filter((r) => r.created).length,
          updated: rows.filter((r) => !r.created).length,
          accounts: rows.map((r) => ({ id: r.id, externalId: r.externalId, created: r.created })),
        },
      }),
    );
    // A retry of this request upserts the same accounts and applies what is still waiting.
    await reconcilePayments(
      { db, temporal, logger },
      accounts.map((a) => a.externalId),
    );
    const created = stored.filter((r) => r.created).length;
    return c.json({ created, updated: stored.length - created, accounts: stored }, 200);
  });

  app.openapi(listAccounts, async (c) => {
    const { limit, cursor, externalId } = c.req.valid("query");
    const after = decodeCursor(cursor, ["uuid"]);
    const rows = await db.account.findMany({
      where: { ...(externalId ? { externalId } : {}), ...(after ? { id: { gt: after[0] } } : {}) },
      orderBy: { id: "asc" },
      take: limit + 1,
    });
    return c.json(
      page(rows, limit, (a) => [a.id], accountView),
      200,
    );
  });

  app.openapi(readAccount, async (c) => {
    const { id } = c.req.valid("param");
    const account = await db.account.findUnique({
      where: { id },
      include: {
        holds: { where: { releasedAt: null }, orderBy: { createdAt: "asc" } },
        optOuts: { orderBy: { createdAt: "asc" } },
        promises: { where: { status: "open" }, orderBy: { dueDate: "asc" } },
        enrolments: { orderBy: { enrolledAt: "desc" } },
        payments: { orderBy: { paidAt: "desc" }, take: RECENT },
      },
    });
    if (!account) throw new ProblemError(404, "Not found", `no account ${id}`);
    const attempts = await db.contactAttempt.findMany({
      where: { accountId: id },
      orderBy: { createdAt: "desc" },
      take: RECENT,
      include: { enrolment: { select: { campaignId: true } } },
    });
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    return c.json(
      {
        ...accountView(account),
        holds: account.holds.map((h) => ({ kind: h.kind, note: h.note, since: h.createdAt.toISOString() })),
        optOuts: account.optOuts.map((o) => ({ channel: o.channel, source: o.source, since: o.createdAt.toISOString() })),
        promises: account.promises.map((p) => ({
          id: p.id,
          amountMinor: p.amountMinor.toString(),
          currency: p.currency,
          dueDate: p.dueDate.toISOString().slice(0, 10),
          status: p.status,
          source: p.source,
          createdAt: p.createdAt.toISOString(),
        })),
        journeys: account.enrolments.map((e) => ({
          campaignId: e.campaignId,
          variant: e.variant,
          status: e.status,
          outcome: e.outcome,
          enrolledAt: e.enrolledAt.toISOString(),
          finishedAt: iso(e.finishedAt),
        })),
        attempts: attempts.map((a) => ({
          id: a.id,
          campaignId: a.enrolment.campaignId,
          stepId: a.stepId,
          channel: a.channel,
          status: a.status,
          errorCode: a.errorCode,
          sentAt: iso(a.sentAt),
          updatedAt: a.updatedAt.toISOString(),
        })),
        payments: account.payments.map((p) => ({
          reference: p.reference,
          amountMinor: p.amountMinor.toString(),
          currency: p.currency,
          paidAt: p.paidAt.toISOString(),
        })),
      },
      200,
    );
  });
  return app;
}
