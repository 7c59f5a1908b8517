// The payment link a debtor asks for on a call (keypad 1), texted as an SMS attempt of the
// call's journey, and the sweep that finishes a text a stopped process left half-sent.
import type twilio from "twilio";
import { MESSAGE_STATUS_PATH, segmentsOf } from "../../activities/channels/sms.ts";
import { classifyTwilioError } from "../../activities/vendor-errors.ts";
import type { Account } from "../../generated/prisma/client.ts";
import type { Database } from "../../runtime/database.ts";
import type { Logger } from "../../runtime/logger.ts";
import { markAttemptFailed, recordHandedToVendor } from "../../store/attempts.ts";
import { STRANDED_AFTER_MS } from "../../store/stranded-callbacks.ts";
import { applyPendingTwilioStatuses } from "../../store/twilio-status.ts";
import { claimPaymentLinkAttempt } from "../../store/voice.ts";
import { contextFor, renderTemplate, resolveTemplate, type TemplateContext } from "../../templates/render.ts";
import { createTwilioClient, recentMessages } from "../../vendors/twilio.ts";
import type { ApiDeps, TwilioChannelSettings } from "../types.ts";

/**
 * How long after the keypress a text left half-sent is still sent by the sweep. The caller
 * heard it was on its way (or the call broke off); hours later, after an outage, it would
 * arrive out of the call's context and perhaps outside lawful hours, so it is given up.
 */
export const PAYMENT_LINK_LATE_MS = 15 * 60_000;

export type PaymentLinkChannels = Pick<TwilioChannelSettings, "accountSid" | "apiBaseUrl" | "smsFrom" | "creditorName" | "paymentLinkBase">;

export interface PaymentLinks {
  /**
   * Texts the link once per call. False when no text goes out: no phone, an SMS opt-out,
   * or Twilio refused it. A repeated keypress sends nothing and answers as the first did.
   */
  send(account: Account, call: { id: string; enrolmentId: string; stepId: string; visit: number }): Promise<boolean>;
  /**
   * Finishes the texts a stopped process claimed but never recorded as handed to Twilio:
   * records the message Twilio holds for it, or sends it while the keypress is recent, or
   * fails it. Returns how many it finished.
   */
  finishStranded(): Promise<number>;
}

/** @example const links = createPaymentLinks({ db, logger, channels, settings }); await links.send(account, callAttempt) */
export function createPaymentLinks({
  db,
  logger,
  channels,
  settings,
}: {
  db: Database;
  logger: Logger;
  channels: PaymentLinkChannels;
  settings: Pick<ApiDeps["settings"], "publicBaseUrl" | "twilioAuthToken">;
}): PaymentLinks {
  let client: twilio.Twilio | undefined;
  const sms = () =>
    (client ??= createTwilioClient({
      accountSid: channels.accountSid,
      authToken: settings.twilioAuthToken,
      ...(channels.apiBaseUrl ? { apiBaseUrl: channels.apiBaseUrl } : {}),
    }));
  // The call attempt's id makes the link, and so the text, unique to the call.
  const linkFor = (accountId: string, callAttemptId: string) => `${channels.paymentLinkBase}/${accountId}?attempt=${callAttemptId}`;
  const optedOut = async (accountId: string) =>
    (await db.optOut.findUnique({ where: { accountId_channel: { accountId, channel: "sms" } }, select: { accountId: true } })) !== null;

  /** Hands the text to Twilio and records it on its attempt; false when Twilio refused it (the attempt failed with its code). */
  async function deliver(attemptId: string, account: Account & { phone: string }, link: string, context: Record<string, string>): Promise<boolean> {
    const { body: source } = await resolveTemplate("ivr-payment-link-sms", "voice", account.locale, []);
    const body = renderTemplate(source, { ...contextFor(account, channels.creditorName), link } as TemplateContext);
    let message;
    try {
      message = await sms().messages.create({
        to: account.phone,
        from: channels.smsFrom,
        body,
        statusCallback: `${settings.publicBaseUrl}${MESSAGE_STATUS_PATH}`,
      });
    } catch (error) {
      const failure = classifyTwilioError(error);
      logger.warn({ ...context, vendorCode: failure.code }, `IVR payment link not sent: ${failure.message}`);
      await markAttemptFailed(db, attemptId, failure.code, failure);
      return false;
    }
    await handedToTwilio(attemptId, message);
    logger.info({ ...context, vendorId: message.sid }, "IVR payment link sent by SMS");
    return true;
  }

  async function handedToTwilio(attemptId: string, message: { sid: string; status?: string; numSegments?: string }) {
    await recordHandedToVendor(db, attemptId, { vendorId: message.sid, status: message.status ?? "queued", units: segmentsOf(message.numSegments) });
    // Statuses Twilio reported before the SID was stored wait for it.
    await applyPendingTwilioStatuses(db, message.sid);
  }

  return {
    async send(account, call) {
      const { phone } = account;
      if (!phone || (await optedOut(account.id))) return false;
      // Not put to the compliance gate: the debtor asked for it on the call, so no frequency
      // cap may refuse it. Recorded all the same, it counts towards the caps of later contacts.
      const attempt = await claimPaymentLinkAttempt(db, { ...call, accountId: account.id });
      if (!attempt.claimed) return attempt.status !== "failed";
      const context = { vendor: "twilio", attemptId: attempt.id, callAttemptId: call.id, accountId: account.id };
      return deliver(attempt.id, { ...account, phone }, linkFor(account.id, call.id), context);
    },

    async finishStranded() {
      // The suffix (PAYMENT_LINK_SUFFIX) is spelt out: a bound parameter would keep the planner
      // from proving the partial index's predicate, and it would scan every attempt.
      const stranded = await db.$queryRaw<{ id: string; call_attempt_id: string; account_id: string; created_at: Date; updated_at: Date }[]>`
        SELECT a.id::text, c.id::text AS call_attempt_id, a.account_id::text, a.created_at, a.updated_at
          FROM contact_attempts a
          JOIN contact_attempts c ON c.enrolment_id = a.enrolment_id AND c.channel = 'voice' AND c.visit = a.visit
                                 AND c.step_id = left(a.step_id, -length(':pay-link'))
         WHERE a.status = 'dispatching' AND a.step_id LIKE '%:pay-link'
           AND a.updated_at < now() - make_interval(secs => ${STRANDED_AFTER_MS / 1000})
         ORDER BY a.updated_at LIMIT 100`;
      let finished = 0;
      for (const row of stranded) {
        // Taking the row over (its updated_at moves) keeps a second process's sweep off it.
        const taken = await db.$executeRaw`
          UPDATE contact_attempts SET updated_at = now() WHERE id = ${row.id}::uuid AND status = 'dispatching' AND updated_at = ${row.updated_at}`;
        if (taken === 0) continue;
        const context = { vendor: "twilio", attemptId: row.id, callAttemptId: row.call_attempt_id, accountId: row.account_id };
        try {
          await finish(row, context);
          finished += 1;
        } catch (error) {
          logger.warn({ ...context, err: error }, "IVR payment link left half-sent still not finished; the next sweep tries again");
        }
      }
      return finished;
    },
  };

  async function finish(row: { id: string; call_attempt_id: string; account_id: string; created_at: Date }, context: Record<string, string>) {
    const giveUp = async (errorCode: string) => {
      logger.warn({ ...context, errorCode }, "IVR payment link left half-sent by a process that stopped is not sent");
      await markAttemptFailed(db, row.id, errorCode, { reachedVendor: false });
    };
    if (!channels.paymentLinkBase) return giveUp("payment-link-unset");
    const account = await db.account.findUniqueOrThrow({ where: { id: row.account_id } });
    const link = linkFor(account.id, row.call_attempt_id);
    const { phone } = account;
    if (phone) {
      // The stopped process may have sent it.
      const sent = (await recentMessages(sms(), { to: phone, from: channels.smsFrom, since: row.created_at })).find((m) => m.body.includes(link));
      if (sent) {
        await handedToTwilio(row.id, sent);
        logger.info({ ...context, vendorId: sent.sid }, "IVR payment link found sent by a process that stopped; recorded");
        return;
      }
    }
    if (!phone) return giveUp("no-phone");
    if (await optedOut(account.id)) return giveUp("opted-out");
    if (Date.now() - row.created_at.getTime() > PAYMENT_LINK_LATE_MS) return giveUp("too-late");
    await deliver(row.id, { ...account, phone }, link, context);
  }
}
