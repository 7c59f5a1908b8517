import { outcomeOf, type AttemptOutcome } from "../domain/attempt-status.ts";
import type { ContactStep } from "../domain/strategy.ts";
import { applyPendingTwilioStatuses } from "../store/twilio-status.ts";
import { renderTemplate, resolveTemplate, type CampaignTemplate } from "../templates/render.ts";
import { classifyTwilioError } from "./vendor-errors.ts";
import type { ActivityDeps } from "./types.ts";

export interface ContactInput {
  enrolmentId: string;
  step: ContactStep;
}

export interface ContactResult {
  attemptId: string;
  status: string;
  /** Known already when the vendor refused the contact or reported back before we returned. */
  outcome?: AttemptOutcome;
  errorCode?: string;
}

export function createContactActivities({ db, twilio, logger, settings }: ActivityDeps) {
  return {
    /**
     * Sends one step's SMS. The attempt is recorded before the vendor call and its vendor
     * id after, so a retry of this activity finds the message it already sent instead of
     * sending another.
     */
    async sendSms({ enrolmentId, step }: ContactInput): Promise<ContactResult> {
      const enrolment = await db.enrolment.findUniqueOrThrow({ where: { id: enrolmentId }, include: { account: true, campaign: true } });
      const { account, campaign } = enrolment;
      const attempt = await db.contactAttempt.upsert({
        where: { enrolmentId_stepId: { enrolmentId, stepId: step.id } },
        create: { enrolmentId, stepId: step.id, channel: "sms", vendor: "twilio", status: "pending" },
        update: {},
      });
      if (attempt.vendorId || attempt.status === "failed") {
        return { attemptId: attempt.id, status: attempt.status, outcome: outcomeOf(attempt.status), errorCode: attempt.errorCode ?? undefined };
      }
      const context = { enrolmentId, accountId: account.id, campaignId: campaign.id, stepId: step.id, attemptId: attempt.id };
      if (!account.phone) return failAttempt(attempt.id, "no-phone");

      const body = renderTemplate(await resolveTemplate(step.template, "sms", account.locale, campaign.templates as unknown as CampaignTemplate[]), {
        name: account.name,
        firstName: account.name.split(/\s+/)[0] ?? account.name,
        amountDue: account.balanceMinor,
        currency: account.currency,
        dueDate: account.dueDate,
        locale: account.locale,
        timeZone: account.timeZone,
        creditor: settings.creditorName,
      });
      let message;
      try {
        message = await twilio.messages.create({
          to: account.phone,
          from: settings.smsFrom,
          body,
          statusCallback: `${settings.publicBaseUrl}/v1/webhooks/twilio/status`,
        });
      } catch (error) {
        const failure = classifyTwilioError(error);
        logger.warn({ ...context, vendor: "twilio", vendorCode: failure.code, transient: failure.transient }, `SMS send failed: ${failure.message}`);
        if (failure.transient) throw failure.asRetryable(context);
        return failAttempt(attempt.id, failure.code);
      }
      const status = message.status ?? "queued";
      await db.$executeRaw`
        UPDATE contact_attempts SET vendor_id = ${message.sid}, sent_at = now(), updated_at = now(),
               status = CASE WHEN status_rank < 2 THEN ${status} ELSE status END,
               status_rank = GREATEST(status_rank, 2)
         WHERE id = ${attempt.id}::uuid`;
      const latest = await applyPendingTwilioStatuses(db, message.sid);
      logger.info({ ...context, vendor: "twilio", vendorId: message.sid }, "SMS handed to Twilio");
      const finalStatus = latest?.status ?? status;
      return { attemptId: attempt.id, status: finalStatus, outcome: outcomeOf(finalStatus) };
    },
  };

  async function failAttempt(attemptId: string, errorCode: string): Promise<ContactResult> {
    await db.contactAttempt.update({ where: { id: attemptId }, data: { status: "failed", statusRank: 5, errorCode } });
    return { attemptId, status: "failed", outcome: "failed", errorCode };
  }
}
