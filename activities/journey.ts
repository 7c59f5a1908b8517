import { createHmac } from "node:crypto";
import { ApplicationFailure } from "@temporalio/common";
import { EndpointRefusedError, postToEndpoint } from "../vendors/endpoints.ts";
import type { Hold } from "../domain/compliance/index.ts";
import type { PaymentSignal, PromiseSignal } from "../workflows/account-messages.ts";
import type { ActivityDeps } from "./types.ts";

export interface AccountFigures {
  balanceMinor: string;
  daysPastDue: number;
  payments: PaymentSignal[];
}

export interface AccountStanding {
  holds: Hold[];
  promise: (PromiseSignal & { paidSinceMinor: string }) | null;
}

export function createJourneyActivities({ db, clock, logger, settings }: ActivityDeps) {
  return {
    /** Records how an account's journey through the campaign ended. */
    async finishEnrolment(input: { enrolmentId: string; outcome: string; cancelled?: boolean }): Promise<void> {
      await db.enrolment.update({
        where: { id: input.enrolmentId },
        data: { status: input.cancelled ? "cancelled" : "finished", outcome: input.outcome, finishedAt: clock() },
      });
    },

    /**
     * What the account already carries as its journey starts: active holds, and its open
     * promise to pay with what was paid since it was made. Later ones reach the journey as
     * signals; these came before it existed.
     */
    async accountStanding(input: { accountId: string }): Promise<AccountStanding> {
      const [holds, promise] = await Promise.all([
        db.accountHold.findMany({ where: { accountId: input.accountId, releasedAt: null }, select: { kind: true } }),
        db.paymentPromise.findFirst({ where: { accountId: input.accountId, status: "open" }, orderBy: { createdAt: "desc" } }),
      ]);
      const paidSince = promise
        ? ((await db.payment.aggregate({ where: { accountId: input.accountId, paidAt: { gte: promise.createdAt } }, _sum: { amountMinor: true } }))._sum
            .amountMinor ?? 0n)
        : 0n;
      return {
        holds: [...new Set(holds.map((h) => h.kind as Hold))],
        promise: promise && {
          promiseId: promise.id,
          amountMinor: promise.amountMinor.toString(),
          dueDate: promise.dueDate.toISOString().slice(0, 10),
          paidSinceMinor: paidSince.toString(),
        },
      };
    },

    /**
     * The account's balance and days past due as stored now (a portfolio import or
     * `POST /v1/accounts` refreshes them without telling journeys), with the payments
     * recorded since the journey's enrolment, read in one statement: the balance is the one
     * those payments left. Since a little before it: a payment recorded while the enrolment's
     * page was being read is told to the journey too, and must count once.
     */
    async accountFigures(input: { enrolmentId: string }): Promise<AccountFigures> {
      const rows = await db.$queryRaw<{ balance_minor: string; days_past_due: number; payments: [string, string][] }[]>`
        SELECT a.balance_minor::text AS balance_minor, a.days_past_due,
               COALESCE((SELECT json_agg(json_build_array(p.reference, p.amount_minor::text)) FROM payments p
                          WHERE p.account_id = a.id AND p.received_at >= e.enrolled_at - interval '10 minutes'), '[]') AS payments
          FROM enrolments e JOIN accounts a ON a.id = e.account_id
         WHERE e.id = ${input.enrolmentId}::uuid`;
      const row = rows[0];
      if (!row) throw new Error(`enrolment ${input.enrolmentId} or its account no longer exists`);
      return {
        balanceMinor: row.balance_minor,
        daysPastDue: row.days_past_due,
        payments: row.payments.map(([reference, amountMinor]) => ({ reference, amountMinor })),
      };
    },

    /** Marks a promise to pay kept or broken once its due date plus grace has passed or it was paid. */
    async settlePromise(input: { promiseId: string; status: "kept" | "broken" }): Promise<void> {
      await db.paymentPromise.updateMany({ where: { id: input.promiseId, status: "open" }, data: { status: input.status } });
    },

    /**
     * Tells an external system to act on the account (suspend a service, consider a
     * write-off, escalate): a JSON POST signed with HMAC-SHA256 when a secret is configured.
     * Network errors and 5xx are retried by Temporal; a 4xx is final.
     */
    async notify(input: { enrolmentId: string; stepId: string; purpose: string; url: string }): Promise<void> {
      const enrolment = await db.enrolment.findUniqueOrThrow({ where: { id: input.enrolmentId }, include: { account: true, campaign: true } });
      // Retried while the system was down: once ops cancel the campaign, its action is theirs no longer.
      if (enrolment.campaign.status === "cancelled" || enrolment.status === "cancelled") {
        logger.info({ enrolmentId: input.enrolmentId, stepId: input.stepId, purpose: input.purpose }, "notify dropped: the campaign was cancelled");
        return;
      }
      const body = JSON.stringify({
        purpose: input.purpose,
        campaignId: enrolment.campaignId,
        stepId: input.stepId,
        account: {
          id: enrolment.accountId,
          externalId: enrolment.account.externalId,
          balanceMinor: enrolment.account.balanceMinor.toString(),
          currency: enrolment.account.currency,
        },
        // The same id on every retry lets the receiver drop repeats.
        idempotencyKey: `${input.enrolmentId}:${input.stepId}`,
      });
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (settings.webhookSecret) headers["x-tagih-signature"] = `sha256=${createHmac("sha256", settings.webhookSecret).update(body).digest("hex")}`;
      const context = `enrolment ${input.enrolmentId}, step ${input.stepId}, ${input.url}`;
      const response = await postToEndpoint(input.url, { headers, body, setting: settings.privateEndpoints, context, timeoutMs: 15_000 }).catch(
        (error: unknown) => {
          // Final like a 4xx: the URL stays refused however often it is tried.
          throw error instanceof EndpointRefusedError ? ApplicationFailure.nonRetryable(error.message, "EndpointRefused") : error;
        },
      );
      await response.arrayBuffer().catch(() => undefined);
      if (response.status >= 500 || response.status === 429) throw new Error(`notify answered ${response.status} (${context})`);
      if (!response.ok) throw ApplicationFailure.nonRetryable(`notify refused with ${response.status} (${context})`, "NotifyRefused");
      logger.info({ enrolmentId: input.enrolmentId, stepId: input.stepId, purpose: input.purpose }, "external system notified");
    },
  };
}
