import { outcomeOf, statusRank, type AttemptOutcome } from "../domain/attempt-status.ts";
import { applyPendingTwilioStatuses } from "../store/twilio-status.ts";
import { renderTemplate, resolveTemplate, type CampaignTemplate } from "../templates/render.ts";
import { classifyTwilioError } from "./vendor-errors.ts";
import type { ActivityDeps } from "./types.ts";

export interface ContactInput {
  /** The attempt the compliance gate reserved for this contact. */
  attemptId: string;
  template: string;
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
     * Sends the SMS of a reserved attempt. The attempt exists before the vendor call and gets
     * its vendor id after, so a retry of this activity finds the message it already sent
     * instead of sending another.
     */
    async sendSms({ attemptId, template }: ContactInput): Promise<ContactResult> {
      const attempt = await db.contactAttempt.findUniqueOrThrow({
        where: { id: attemptId },
        include: { enrolment: { include: { account: true, campaign: true } } },
      });
      const { account, campaign } = attempt.enrolment;
      if (attempt.vendorId || attempt.statusRank >= statusRank("failed")) {
        return { attemptId, status: attempt.status, outcome: outcomeOf(attempt.status), errorCode: attempt.errorCode ?? undefined };
      }
      const context = { enrolmentId: attempt.enrolmentId, accountId: account.id, campaignId: campaign.id, stepId: attempt.stepId, attemptId };
      if (!account.phone) return failAttempt(attemptId, "no-phone");

      const body = renderTemplate(await resolveTemplate(template, "sms", account.locale, campaign.templates as unknown as CampaignTemplate[]), {
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
        // A try that died after the vendor call left the attempt dispatching: the vendor
        // may hold the message already, so look for it before sending again.
        message = attempt.status === "dispatching" ? await findSentMessage(account.phone, body, attempt.updatedAt) : undefined;
        if (message) logger.warn({ ...context, vendor: "twilio", vendorId: message.sid }, "found the SMS an interrupted try had sent; not sending it again");
        else {
          await db.contactAttempt.update({ where: { id: attemptId }, data: { status: "dispatching" } });
          message = await twilio.messages.create({
            to: account.phone,
            from: settings.smsFrom,
            body,
            statusCallback: `${settings.publicBaseUrl}/v1/webhooks/twilio/status`,
          });
        }
      } catch (error) {
        const failure = classifyTwilioError(error);
        logger.warn({ ...context, vendor: "twilio", vendorCode: failure.code, transient: failure.transient }, `SMS send failed: ${failure.message}`);
        if (failure.transient) throw failure.asRetryable(context);
        return failAttempt(attemptId, failure.code);
      }
      const status = message.status ?? "queued";
      await db.$executeRaw`
        UPDATE contact_attempts SET vendor_id = ${message.sid}, sent_at = now(), updated_at = now(),
               status = CASE WHEN status_rank < 2 THEN ${status} ELSE status END,
               status_rank = GREATEST(status_rank, 2)
         WHERE id = ${attemptId}::uuid`;
      const latest = await applyPendingTwilioStatuses(db, message.sid);
      logger.info({ ...context, vendor: "twilio", vendorId: message.sid }, "SMS handed to Twilio");
      const finalStatus = latest?.status ?? status;
      return { attemptId, status: finalStatus, outcome: outcomeOf(finalStatus) };
    },
  };

  /** The message we sent this number with this body since `since`, if the vendor has it. */
  async function findSentMessage(to: string, body: string, since: Date) {
    const recent = await twilio.messages.list({ to, dateSentAfter: new Date(since.getTime() - 60_000), limit: 50 });
    return recent.find((m) => m.body === body && m.from === settings.smsFrom);
  }

  async function failAttempt(attemptId: string, errorCode: string): Promise<ContactResult> {
    await db.contactAttempt.update({ where: { id: attemptId }, data: { status: "failed", statusRank: statusRank("failed"), errorCode } });
    return { attemptId, status: "failed", outcome: "failed", errorCode };
  }
}
