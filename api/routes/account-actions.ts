import { createRoute, z } from "@hono/zod-openapi";
import { CHANNELS } from "../../domain/channel.ts";
import { currencyCodeSchema, minorAmountSchema } from "../../domain/money.ts";
import { promiseDueDateProblem } from "../../domain/promise-dates.ts";
import { HOLDS } from "../../domain/compliance/index.ts";
import { recordAudit } from "../../store/audit.ts";
import { TEXTED_OPT_OUT } from "../../store/inbound.ts";
import { applyPayment, signalRunningJourneys } from "../../store/payments.ts";
import { paidAtSchema, paymentReferenceSchema } from "../webhooks/payments.ts";
import { principalOf } from "../access.ts";
import { ProblemError } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

const idParam = z.object({ id: z.uuid() });
const ok = (description: string) => ({ description, content: { "application/json": { schema: z.object({ accountId: z.string(), signalled: z.number() }) } } });

const placeHold = createRoute({
  method: "post",
  path: "/v1/accounts/{id}/holds",
  tags: ["accounts"],
  summary: "Place a hold (dispute, cease-communication, bankruptcy, deceased, attorney-represented): all contact stops in every campaign",
  request: {
    params: idParam,
    body: { required: true, content: { "application/json": { schema: z.object({ kind: z.enum(HOLDS), note: z.string().max(1000).optional() }).strict() } } },
  },
  responses: { 200: ok("Held"), 404: { description: "No such account" } },
});
const releaseHold = createRoute({
  method: "delete",
  path: "/v1/accounts/{id}/holds/{kind}",
  tags: ["accounts"],
  summary: "Release a hold; the account's campaigns go on where they stood",
  request: { params: idParam.extend({ kind: z.enum(HOLDS) }) },
  responses: { 200: ok("Released"), 404: { description: "No such account" } },
});
/** Where ops learnt of the opt-out (a call, a letter); never what marks a debtor's own text, which their START would lift. */
const optOutSource = z
  .string()
  .max(100)
  .refine(
    (source) => !source.toLowerCase().startsWith(TEXTED_OPT_OUT),
    `must not start with "${TEXTED_OPT_OUT}": that marks an opt-out the debtor texted, which their START lifts`,
  )
  .default("ops");
const optOut = createRoute({
  method: "post",
  path: "/v1/accounts/{id}/opt-outs",
  tags: ["accounts"],
  summary: "Opt the debtor out of a channel, in every campaign at once",
  request: {
    params: idParam,
    body: {
      required: true,
      content: { "application/json": { schema: z.object({ channel: z.enum(CHANNELS), source: optOutSource }).strict() } },
    },
  },
  responses: { 200: ok("Opted out"), 404: { description: "No such account" } },
});
const optIn = createRoute({
  method: "delete",
  path: "/v1/accounts/{id}/opt-outs/{channel}",
  tags: ["accounts"],
  summary: "Opt the debtor back in to a channel",
  request: { params: idParam.extend({ channel: z.enum(CHANNELS) }) },
  responses: { 200: ok("Opted in"), 404: { description: "No such account" } },
});
const promise = createRoute({
  method: "post",
  path: "/v1/accounts/{id}/promises",
  tags: ["accounts"],
  summary: "Record a promise to pay: the account's campaigns pause until the due date plus grace",
  request: {
    params: idParam,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({ amountMinor: minorAmountSchema, dueDate: z.iso.date(), source: z.string().max(100).default("ops") }).strict(),
        },
      },
    },
  },
  responses: {
    200: ok("Recorded"),
    400: {
      description: "Invalid fields, a dueDate before today (where the day is earliest) or more than a year out, or an amountMinor above the account's balance",
    },
    404: { description: "No such account" },
  },
});
const pay = createRoute({
  method: "post",
  path: "/v1/accounts/{id}/payments",
  tags: ["accounts"],
  summary: "Record a payment (unique reference; a repeat is ignored): a full payment ends the account's campaigns",
  request: {
    params: idParam,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z
            .object({
              reference: paymentReferenceSchema,
              amountMinor: minorAmountSchema,
              currency: currencyCodeSchema,
              paidAt: paidAtSchema.optional(),
              overpayment: z
                .boolean()
                .optional()
                .describe(
                  "true records an amount above the account's balance (the debtor paid more than owed); without it such an amount is refused as a likely typo",
                ),
            })
            .strict(),
        },
      },
    },
  },
  responses: {
    200: ok("Recorded"),
    404: { description: "No such account" },
    409: { description: "The reference was recorded with other details" },
    422: { description: "More than the account's balance, without `overpayment: true`" },
  },
});

export function accountActionRoutes({ db, temporal, logger }: ApiDeps) {
  const app = router();
  const account = async (id: string) => {
    const found = await db.account.findUnique({ where: { id } });
    if (!found) throw new ProblemError(404, "Not found", `no account ${id}`);
    return found;
  };
  /** Tells every running journey of the account; one that just ended has nothing to hear. */
  const tell = async (accountId: string, signal: string, arg?: unknown) => ({
    accountId,
    signalled: await signalRunningJourneys({ db, temporal, logger }, accountId, signal, arg),
  });

  app.openapi(placeHold, async (c) => {
    const { id } = c.req.valid("param");
    const { kind, note } = c.req.valid("json");
    await account(id);
    await db.$transaction(async (tx) => {
      const hold = await tx.accountHold.create({ data: { accountId: id, kind, note } });
      await recordAudit(tx, { actor: principalOf(c).keyId, action: "account.hold", target: { type: "account", id }, detail: { holdId: hold.id, kind } });
    });
    return c.json(await tell(id, "holdPlaced", { kind }), 200);
  });
  app.openapi(releaseHold, async (c) => {
    const { id, kind } = c.req.valid("param");
    await account(id);
    await db.$transaction(async (tx) => {
      const { count } = await tx.accountHold.updateMany({ where: { accountId: id, kind, releasedAt: null }, data: { releasedAt: new Date() } });
      if (count) await recordAudit(tx, { actor: principalOf(c).keyId, action: "account.hold-release", target: { type: "account", id }, detail: { kind } });
    });
    return c.json(await tell(id, "holdReleased", { kind }), 200);
  });
  // Opt-outs are read by the gate before every contact; running journeys need no signal.
  app.openapi(optOut, async (c) => {
    const { id } = c.req.valid("param");
    const { channel, source } = c.req.valid("json");
    await account(id);
    await db.$transaction(async (tx) => {
      await tx.optOut.upsert({ where: { accountId_channel: { accountId: id, channel } }, create: { accountId: id, channel, source }, update: {} });
      await recordAudit(tx, { actor: principalOf(c).keyId, action: "account.opt-out", target: { type: "account", id }, detail: { channel, source } });
    });
    return c.json({ accountId: id, signalled: 0 }, 200);
  });
  app.openapi(optIn, async (c) => {
    const { id, channel } = c.req.valid("param");
    await account(id);
    await db.$transaction(async (tx) => {
      const { count } = await tx.optOut.deleteMany({ where: { accountId: id, channel } });
      if (count) await recordAudit(tx, { actor: principalOf(c).keyId, action: "account.opt-in", target: { type: "account", id }, detail: { channel } });
    });
    return c.json({ accountId: id, signalled: 0 }, 200);
  });
  app.openapi(promise, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const found = await account(id);
    const dueDateProblem = promiseDueDateProblem(body.dueDate, Date.now());
    if (dueDateProblem) throw new ProblemError(400, "Invalid request", `invalid dueDate`, [{ field: "dueDate", reason: dueDateProblem }]);
    // More than is owed cannot be what the debtor will pay: it is a keying slip (an extra
    // zero), and the journey would wait for a payment larger than the balance while a full
    // payment ends it as paid anyway. A balance refreshed later (fees) takes a new promise.
    const amount = BigInt(body.amountMinor);
    if (amount > found.balanceMinor) {
      throw new ProblemError(400, "Invalid request", `invalid amountMinor`, [
        { field: "amountMinor", reason: `must not exceed the account's balance ${found.balanceMinor} ${found.currency}` },
      ]);
    }
    const created = await db.$transaction(async (tx) => {
      const row = await tx.paymentPromise.create({
        data: { accountId: id, amountMinor: amount, currency: found.currency, dueDate: new Date(body.dueDate), source: body.source },
      });
      await recordAudit(tx, {
        actor: principalOf(c).keyId,
        action: "account.promise",
        target: { type: "account", id },
        detail: { promiseId: row.id, amountMinor: body.amountMinor, currency: found.currency, dueDate: body.dueDate, source: body.source },
      });
      return row;
    });
    return c.json(await tell(id, "promiseToPay", { promiseId: created.id, amountMinor: body.amountMinor, dueDate: body.dueDate }), 200);
  });
  app.openapi(pay, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const found = await account(id);
    if (body.currency !== found.currency)
      throw new ProblemError(400, "Invalid request", `account ${id} is in ${found.currency}`, [
        { field: "currency", reason: `must be the account's currency ${found.currency}` },
      ]);
    const applied = await applyPayment(
      { db, temporal, logger },
      {
        accountId: id,
        reference: body.reference,
        amountMinor: body.amountMinor,
        currency: body.currency,
        paidAt: body.paidAt ? new Date(body.paidAt) : undefined,
      },
      { resignal: true, actor: principalOf(c).keyId, refuseAboveBalance: body.overpayment !== true },
    );
    if (applied.status === "above-balance")
      throw new ProblemError(422, "Unprocessable", `payment ${body.reference} is more than account ${id}'s balance; nothing was recorded`, [
        { field: "amountMinor", reason: `is more than the balance ${applied.balanceMinor}; send "overpayment": true if the debtor really paid more than owed` },
      ]);
    if (applied.status === "conflict") throw new ProblemError(409, "Conflict", `payment ${body.reference} was recorded with other details`);
    return c.json({ accountId: id, signalled: applied.signalled }, 200);
  });
  return app;
}
