import { createHmac } from "node:crypto";
import { ApplicationFailure } from "@temporalio/common";
import { Prisma } from "../generated/prisma/client.ts";
import { EndpointRefusedError, postToEndpoint } from "../vendors/endpoints.ts";
import type { Hold } from "../domain/compliance/index.ts";
import type { PaymentSignal, PromiseSignal } from "../workflows/account-messages.ts";
import type { ActivityDeps } from "./types.ts";

export interface AccountFigures {
  balanceMinor: string;
  daysPastDue: number;
  payments: PaymentSignal[];
}

/** The figures, and what else the account carries as its journey starts. */
export interface AccountStanding extends AccountFigures {
  holds: Hold[];
  promise: (PromiseSignal & { paidSinceMinor: string }) | null;
}

interface FiguresRow {
  balance_minor: string;
  days_past_due: number;
  payments: [string, string][];
}

/**
 * An enrolment's account figures: its balance and days past due as stored now, with the
 * payments recorded since the enrolment, read in one statement (the balance is the one those
 * payments left). Since a little before it: a payment recorded while the enrolment's page was
 * being read is told to the journey too, and must count once. `extra` adds columns.
 */
const figuresSelect = (enrolmentId: string, extra = Prisma.empty) => Prisma.sql`
  SELECT a.balance_minor::text AS balance_minor, a.days_past_due,
         COALESCE((SELECT json_agg(json_build_array(p.reference, p.amount_minor::text)) FROM payments p
                    WHERE p.account_id = a.id AND p.received_at >= e.enrolled_at - interval '10 minutes'), '[]') AS payments
         ${extra}
    FROM enrolments e JOIN accounts a ON a.id = e.account_id
   WHERE e.id = ${enrolmentId}::uuid`;

const figuresOf = (enrolmentId: string, row: FiguresRow | undefined): AccountFigures => {
  if (!row) throw new Error(`enrolment ${enrolmentId} or its account no longer exists`);
  return {
    balanceMinor: row.balance_minor,
    daysPastDue: row.days_past_due,
    payments: row.payments.map(([reference, amountMinor]) => ({ reference, amountMinor })),
  };
};

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
     * What the account already carries as its journey starts: its figures, active holds, and
     * its open promise to pay with what was paid since it was made. Later ones reach the
     * journey as signals; these came before it existed.
     */
    async accountStanding(input: { enrolmentId: string }): Promise<AccountStanding> {
      const rows = await db.$queryRaw<(FiguresRow & { holds: Hold[]; promise: [string, string, string, string] | null })[]>(
        figuresSelect(
          input.enrolmentId,
          Prisma.sql`, ARRAY(SELECT DISTINCT h.kind::text FROM account_holds h WHERE h.account_id = a.id AND h.released_at IS NULL) AS holds,
            (SELECT json_build_array(pr.id, pr.amount_minor::text, pr.due_date::text,
                      (SELECT COALESCE(sum(p.amount_minor), 0)::text FROM payments p WHERE p.account_id = a.id AND p.paid_at >= pr.created_at))
               FROM promises pr WHERE pr.account_id = a.id AND pr.status = 'open' ORDER BY pr.created_at DESC LIMIT 1) AS promise`,
        ),
      );
      const row = rows[0];
      const promise = row?.promise;
      return {
        ...figuresOf(input.enrolmentId, row),
        holds: row!.holds,
        promise: promise ? { promiseId: promise[0], amountMinor: promise[1], dueDate: promise[2], paidSinceMinor: promise[3] } : null,
      };
    },

    /** The account's figures again (a portfolio import or `POST /v1/accounts` refreshes them without telling journeys). */
    async accountFigures(input: { enrolmentId: string }): Promise<AccountFigures> {
      return figuresOf(input.enrolmentId, (await db.$queryRaw<FiguresRow[]>(figuresSelect(input.enrolmentId)))[0]);
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
