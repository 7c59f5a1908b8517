import { createRoute, z } from "@hono/zod-openapi";
import { WorkflowNotFoundError } from "@temporalio/client";
import type { Context } from "hono";
import twilio from "twilio";
import { outcomeOf } from "../../domain/attempt-status.ts";
import { storeCallback } from "../../store/callbacks.ts";
import { applyTwilioMessageStatus } from "../../store/twilio-status.ts";
import type { ContactOutcomeSignal } from "../../workflows/account-messages.ts";
import { fieldProblems, problem, validationProblem } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

const messageStatusSchema = z.object({
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-f]{32}$/, "must be a Twilio message SID"),
  MessageStatus: z.string().min(1),
  AccountSid: z.string().min(1),
  ErrorCode: z.string().optional(),
});

const statusRoute = createRoute({
  method: "post",
  path: "/v1/webhooks/twilio/status",
  tags: ["webhooks"],
  summary: "Twilio message status callback (signed with X-Twilio-Signature)",
  description:
    "Form-encoded as Twilio sends it. The signature is checked against PUBLIC_BASE_URL plus this path. Each (MessageSid, MessageStatus) is stored once; statuses only move forward.",
  request: { headers: z.object({ "x-twilio-signature": z.string().optional() }) },
  responses: {
    204: { description: "Stored (and applied, unless stale)" },
    400: { description: "A required field is missing or malformed" },
    403: { description: "Missing or invalid signature; nothing stored" },
    503: { description: "Stored, but the workflow could not be told yet; Twilio retries" },
  },
});

/**
 * Verifies a Twilio webhook over its raw form body and returns the parameters, or
 * undefined when the signature is missing or wrong.
 */
async function verifiedTwilioParams(c: Context, authToken: string, publicBaseUrl: string): Promise<Record<string, string> | undefined> {
  const signature = c.req.header("x-twilio-signature");
  const params = Object.fromEntries(new URLSearchParams(await c.req.text()));
  const query = new URL(c.req.url).search;
  // Twilio signs the URL it called: the public one, which a proxy may rewrite before us.
  const url = `${publicBaseUrl}${c.req.path}${query}`;
  return signature && twilio.validateRequest(authToken, signature, url, params) ? params : undefined;
}

export function twilioWebhookRoutes({ db, temporal, logger, settings }: ApiDeps) {
  const app = router();

  app.openapi(statusRoute, async (c) => {
    const params = await verifiedTwilioParams(c, settings.twilioAuthToken, settings.publicBaseUrl);
    if (!params) {
      logger.warn({ vendor: "twilio", path: c.req.path }, "rejected a Twilio callback with a missing or invalid signature");
      return problem(c, 403, "Forbidden", "missing or invalid X-Twilio-Signature");
    }
    const parsed = messageStatusSchema.safeParse(params);
    if (!parsed.success) return validationProblem(c, fieldProblems(parsed.error));
    const event = parsed.data;

    const stored = await storeCallback(db, {
      vendor: "twilio",
      eventId: `${event.MessageSid}:${event.MessageStatus}`,
      kind: "message-status",
      payload: params,
    });
    const moved = stored.alreadyApplied ? undefined : await applyTwilioMessageStatus(db, stored.id, event);
    const outcome = outcomeOf(event.MessageStatus);
    if (!outcome) return c.body(null, 204);

    // Tell the account workflow about a terminal status. On a redelivery the status may
    // already be stored while the signal was not sent, so the signal is sent again: the
    // workflow treats repeats as one.
    const target = moved ?? (await attemptOf(db, event.MessageSid));
    if (!target) return c.body(null, 204);
    const signal: ContactOutcomeSignal = { attemptId: target.attemptId, status: event.MessageStatus, outcome };
    try {
      await temporal.workflow.getHandle(target.workflowId).signal("contactOutcome", signal);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return c.body(null, 204);
      logger.error({ err: error, vendor: "twilio", vendorId: event.MessageSid, workflowId: target.workflowId }, "could not signal the account workflow");
      return problem(c, 503, "Unavailable", "stored; the workflow could not be signalled, retry later");
    }
    return c.body(null, 204);
  });
  return app;
}

async function attemptOf(db: ApiDeps["db"], messageSid: string) {
  const attempt = await db.contactAttempt.findUnique({
    where: { vendor_vendorId: { vendor: "twilio", vendorId: messageSid } },
    select: { id: true, enrolment: { select: { workflowId: true } } },
  });
  return attempt && { attemptId: attempt.id, workflowId: attempt.enrolment.workflowId };
}
