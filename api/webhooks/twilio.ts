import { createRoute, z } from "@hono/zod-openapi";
import { MESSAGE_STATUS_PATH } from "../../activities/channels/sms.ts";
import { createMessageStatusIntake } from "../../store/message-status-intake.ts";
import { createOutcomeSignaller } from "../outcome-signals.ts";
import { checkCallback, problem, validationProblem } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";
import { accountSid, errorCode, messageSid, statusWord } from "./twilio-fields.ts";
import { verifiedTwilioParams } from "./twilio-inbound.ts";

const messageStatusSchema = z.object({
  MessageSid: messageSid,
  MessageStatus: statusWord,
  AccountSid: accountSid,
  ErrorCode: errorCode.optional(),
});

const statusRoute = createRoute({
  method: "post",
  path: MESSAGE_STATUS_PATH,
  tags: ["webhooks"],
  summary: "Twilio message status callback (signed with X-Twilio-Signature)",
  description:
    "Form-encoded as Twilio sends it. The signature is checked against PUBLIC_BASE_URL plus this path. Each (MessageSid, MessageStatus) is stored once; statuses only move forward, and one we do not know is stored and ignored. " +
    "The answer comes once the event is committed; the account workflow is told of an outcome right after, and again later if Temporal could not take it then.",
  security: [{ twilioSignature: [] }],
  responses: {
    204: { description: "Stored (and applied, unless stale)" },
    500: { description: "Nothing was stored; Twilio retries" },
    400: { description: "A required field is missing, malformed or longer than Twilio sends it, or a field holds a NUL character; nothing stored" },
    403: { description: "Missing or invalid signature; nothing stored" },
  },
});

export function twilioWebhookRoutes({ db, sql, temporal, logger, settings }: ApiDeps) {
  const app = router();
  const intake = createMessageStatusIntake(db, sql);
  const signaller = createOutcomeSignaller({ db, temporal, logger });

  app.openapi(statusRoute, async (c) => {
    const params = await verifiedTwilioParams(c, settings.twilioAuthToken, settings.publicBaseUrl);
    if (!params) {
      logger.warn({ vendor: "twilio", path: c.req.path }, "rejected a Twilio callback with a missing or invalid signature");
      return problem(c, 403, "Forbidden", "missing or invalid X-Twilio-Signature");
    }
    const parsed = checkCallback(messageStatusSchema, params);
    if (!parsed.success) return validationProblem(c, parsed.problems);
    const event = parsed.data;

    const { signal, callbackId } = await intake.submit(event, params);
    if (signal) signaller.send([{ callbackId, signal }]);
    return c.body(null, 204);
  });
  return app;
}
