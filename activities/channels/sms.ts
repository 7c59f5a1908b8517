import type twilio from "twilio";
import type { Database } from "../../runtime/database.ts";
import { applyPendingTwilioStatuses } from "../../store/twilio-status.ts";
import { namedTemplateError } from "../../templates/render.ts";
import { renderFor } from "../render-for.ts";
import { recentMessages } from "../../vendors/twilio.ts";
import { classifyTwilioError, NotSentError } from "../vendor-errors.ts";
import type { ChannelSender } from "./types.ts";

/** Where Twilio posts the status of the messages we send (`statusCallback`). */
export const MESSAGE_STATUS_PATH = "/v1/webhooks/twilio/status";

/**
 * SMS through Twilio's Messages API, with status callbacks to our webhook.
 * @example createSmsSender({ db, twilio, from: "+15005550006", creditorName, statusCallback })
 */
export function createSmsSender(deps: { db: Database; twilio: twilio.Twilio; from: string; creditorName: string; statusCallback: string }): ChannelSender {
  const { db, twilio, from } = deps;
  return {
    vendor: "twilio",
    classify: classifyTwilioError,
    applyPending: (sid) => applyPendingTwilioStatuses(db, sid),
    async send({ account, campaign, template, mayHaveSent, since }) {
      if (!account.phone) throw new NotSentError("no-phone", `account ${account.id} has no phone number`);
      const body = await renderFor("sms", template, account, campaign, deps.creditorName).catch((error: unknown) => {
        throw namedTemplateError(error, `sms template "${template}" for ${account.locale}`);
      });
      if (mayHaveSent) {
        const found = (await recentMessages(twilio, { to: account.phone, from, since })).find((m) => m.body === body);
        if (found) return { vendorId: found.sid, status: found.status, units: segmentsOf(found.numSegments) };
      }
      const message = await twilio.messages.create({ to: account.phone, from, body, statusCallback: deps.statusCallback });
      return { vendorId: message.sid, status: message.status ?? "queued", units: segmentsOf(message.numSegments) };
    },
  };
}

/** Twilio reports the segments a message is billed for as a decimal string. */
export function segmentsOf(numSegments: string | undefined): number | undefined {
  const n = Number(numSegments);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
