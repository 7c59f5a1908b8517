import { createRoute, z } from "@hono/zod-openapi";
import { accountInputSchema } from "../../domain/account-input.ts";
import { namedColumns, upsertAccounts } from "../../store/accounts.ts";
import { reconcilePayments } from "../../store/payments.ts";
import { validationProblem } from "../problem.ts";
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
  },
});

export function accountRoutes({ db, temporal, logger }: ApiDeps) {
  const app = router();
  app.openapi(upsertAccountsRoute, async (c) => {
    const { accounts } = c.req.valid("json");
    const duplicate = accounts.findIndex((a, i) => accounts.findIndex((b) => b.externalId === a.externalId) !== i);
    if (duplicate >= 0) return validationProblem(c, [{ field: `accounts.${duplicate}.externalId`, reason: "appears twice in this batch" }]);
    // The optional fields each account names: the ones it leaves out keep what is stored.
    const raw = (await c.req.json<{ accounts: Record<string, unknown>[] }>()).accounts;
    const stored = await upsertAccounts(
      db,
      accounts,
      raw.map((a) => namedColumns(Object.keys(a))),
    );
    // A retry of this request upserts the same accounts and applies what is still waiting.
    await reconcilePayments(
      { db, temporal, logger },
      accounts.map((a) => a.externalId),
    );
    const created = stored.filter((r) => r.created).length;
    return c.json({ created, updated: stored.length - created, accounts: stored }, 200);
  });
  return app;
}
