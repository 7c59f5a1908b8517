import type { Channel } from "../domain/channel.ts";
import { outcomeOf, statusRank, type AttemptOutcome } from "../domain/attempt-status.ts";
import { markAttemptFailed, recordHandedToVendor } from "../store/attempts.ts";
import type { ChannelSender } from "./channels/types.ts";
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

export function createContactActivities({ db, senders, logger }: ActivityDeps) {
  return {
    /**
     * Hands a reserved attempt to its channel's vendor. The attempt exists before the vendor
     * call and gets the vendor's id after; in between it is marked dispatching, so a retry
     * after a crash asks the sender to look for the message before sending another.
     */
    async sendContact({ attemptId, template }: ContactInput): Promise<ContactResult> {
      const attempt = await db.contactAttempt.findUniqueOrThrow({
        where: { id: attemptId },
        include: { enrolment: { include: { account: true, campaign: true } } },
      });
      if (attempt.vendorId || attempt.statusRank >= statusRank("failed")) {
        return { attemptId, status: attempt.status, outcome: outcomeOf(attempt.status), errorCode: attempt.errorCode ?? undefined };
      }
      const { account, campaign } = attempt.enrolment;
      const channel = attempt.channel as Channel;
      const context = { enrolmentId: attempt.enrolmentId, accountId: account.id, campaignId: campaign.id, stepId: attempt.stepId, attemptId, channel };
      const sender: ChannelSender | undefined = senders[channel];
      if (!sender) return failAttempt(attemptId, "channel-unavailable", { reachedVendor: false });

      const mayHaveSent = attempt.status === "dispatching";
      let sent;
      try {
        if (!mayHaveSent) await db.contactAttempt.update({ where: { id: attemptId }, data: { status: "dispatching" } });
        sent = await sender.send({ attemptId, account, campaign, stepId: attempt.stepId, template, mayHaveSent, since: attempt.updatedAt });
      } catch (error) {
        const failure = sender.classify(error);
        logger.warn(
          { ...context, vendor: sender.vendor, vendorCode: failure.code, transient: failure.transient },
          `${channel} send failed: ${failure.message}`,
        );
        if (failure.transient) throw failure.asRetryable(context);
        return failAttempt(attemptId, failure.code, { reachedVendor: failure.reachedVendor });
      }
      await recordHandedToVendor(db, attemptId, sent);
      const latest = await sender.applyPending(sent.vendorId);
      logger.info({ ...context, vendor: sender.vendor, vendorId: sent.vendorId }, `${channel} handed to ${sender.vendor}`);
      const status = latest?.status ?? sent.status;
      return { attemptId, status, outcome: outcomeOf(status) };
    },
  };

  async function failAttempt(attemptId: string, errorCode: string, reached: { reachedVendor: boolean }): Promise<ContactResult> {
    await markAttemptFailed(db, attemptId, errorCode, reached);
    return { attemptId, status: "failed", outcome: "failed", errorCode };
  }
}
