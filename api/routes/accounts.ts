import { createRoute, z } from "@hono/zod-openapi";
import { accountInputSchema, type AccountInput } from "../../domain/account-input.ts";
import { validationProblem } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

const upsertAccounts = createRoute({
  method: "post",
  path: "/v1/accounts",
  tags: ["accounts"],
  summary: "Create or update a batch of accounts (upsert by externalId, all or nothing)",
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
  },
});

export function accountRoutes({ db }: ApiDeps) {
  const app = router();
  app.openapi(upsertAccounts, async (c) => {
    const { accounts } = c.req.valid("json");
    const duplicate = accounts.findIndex((a, i) => accounts.findIndex((b) => b.externalId === a.externalId) !== i);
    if (duplicate >= 0) return validationProblem(c, [{ field: `accounts.${duplicate}.externalId`, reason: "appears twice in this batch" }]);
    const stored = await db.$transaction(async (tx) => {
      const rows: { id: string; externalId: string; created: boolean }[] = [];
      for (const a of accounts) rows.push({ ...(await upsert(tx, a)), externalId: a.externalId });
      return rows;
    });
    const created = stored.filter((r) => r.created).length;
    return c.json({ created, updated: stored.length - created, accounts: stored }, 200);
  });
  return app;
}

type Tx = Parameters<Parameters<ApiDeps["db"]["$transaction"]>[0]>[0];

// One statement per account; `xmax = 0` tells an insert from an update. Amounts travel as
// decimal strings: the driver adapter cannot bind bigints beyond 2^53.
async function upsert(tx: Tx, a: AccountInput): Promise<{ id: string; created: boolean }> {
  const rows = await tx.$queryRaw<{ id: string; created: boolean }[]>`
    INSERT INTO accounts (id, external_id, name, phone, email, whatsapp, time_zone, locale, jurisdiction, product, currency, balance_minor, days_past_due, due_date,
                          consent_whatsapp, consent_autodialed, updated_at)
    VALUES (gen_random_uuid(), ${a.externalId}, ${a.name}, ${a.phone ?? null}, ${a.email ?? null}, ${a.whatsapp ?? null}, ${a.timeZone ?? null}, ${a.locale},
            ${a.jurisdiction}, ${a.product}, ${a.currency}, ${a.balanceMinor.toString()}::bigint, ${a.daysPastDue}, ${a.dueDate ?? null}::date,
            ${a.consent.whatsapp}, ${a.consent.autodialedCalls}, now())
    ON CONFLICT (external_id) DO UPDATE SET
      name = EXCLUDED.name, phone = EXCLUDED.phone, email = EXCLUDED.email, whatsapp = EXCLUDED.whatsapp,
      time_zone = EXCLUDED.time_zone, locale = EXCLUDED.locale, jurisdiction = EXCLUDED.jurisdiction,
      product = EXCLUDED.product, currency = EXCLUDED.currency, balance_minor = EXCLUDED.balance_minor,
      days_past_due = EXCLUDED.days_past_due, due_date = EXCLUDED.due_date,
      consent_whatsapp = EXCLUDED.consent_whatsapp, consent_autodialed = EXCLUDED.consent_autodialed, updated_at = now()
    RETURNING id, (xmax = 0) AS created`;
  return rows[0]!;
}
