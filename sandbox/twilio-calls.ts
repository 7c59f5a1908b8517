/**
 * Twilio Programmable Voice: `POST …/Calls.json` validates like Twilio, answers 201 with the
 * call resource, then plays the call out in the background (see twilio-call-flow.ts).
 */
import { Hono } from "hono";
import { drawVoice } from "./outcomes.ts";
import { maskPhone } from "./mask.ts";
import { runCall } from "./twilio-call-flow.ts";
import { listPage, API_VERSION, field, isE164, isHttpUrl, newSid, readForm, rfc2822, twilioError } from "./twilio-common.ts";
import type { Context } from "hono";
import type { SandboxContext } from "./context.ts";
import type { SandboxCall } from "./types.ts";

/** Routes under `/2010-04-01/Accounts/:accountSid`. */
export function callRoutes(ctx: SandboxContext): Hono {
  const app = new Hono();
  app.post("/Calls.json", (c) => createCall(c, ctx));
  // The call log, newest first, filtered like Twilio's by To, From, Status and StartTime> (on or after).
  app.get("/Calls.json", (c) => {
    const to = c.req.query("To");
    const from = c.req.query("From");
    const status = c.req.query("Status");
    const after = c.req.query("StartTime>") ?? c.req.query("StartTime>=");
    const since = after ? Date.parse(after) : Number.NEGATIVE_INFINITY;
    const calls = [...ctx.store.calls.values()].filter(
      (call) => (!to || call.to === to) && (!from || call.from === from) && (!status || call.status === status) && Date.parse(call.createdAt) >= since,
    );
    return c.json(listPage("calls", calls.reverse().map(callResource), c.req.path));
  });
  app.get("/Calls/:file", (c) => {
    const call = ctx.store.calls.get(c.req.param("file").replace(/\.json$/, ""));
    if (!call) return twilioError(c, 404, 20404, `The requested resource ${c.req.path} was not found`);
    return c.json(callResource(call));
  });
  return app;
}

async function createCall(c: Context, ctx: SandboxContext): Promise<Response> {
  const form = await readForm(c);
  const to = field(form, "To");
  const from = field(form, "From");
  const url = field(form, "Url");
  const twiml = field(form, "Twiml");
  const statusCallback = field(form, "StatusCallback");
  const amdCallback = field(form, "AsyncAmdStatusCallback");

  if (!to) return twilioError(c, 400, 21201, "No 'To' number is specified");
  if (!from) return twilioError(c, 400, 21213, "No 'From' number is specified");
  if (!url && !twiml) return twilioError(c, 400, 21205, "Url parameter is required.");
  if (!isE164(to) || to === "+15005550001") return twilioError(c, 400, 21211, `Invalid 'To' Phone Number: ${to}`);
  if (!isE164(from)) return twilioError(c, 400, 21212, `Invalid 'From' Phone Number: ${from}`);
  for (const [name, value] of [
    ["Url", url],
    ["StatusCallback", statusCallback],
    ["AsyncAmdStatusCallback", amdCallback],
  ]) {
    if (value && !isHttpUrl(value)) return twilioError(c, 400, 21205, `${name} is not a valid URL: ${value}`);
  }

  const rng = ctx.rng.fork();
  const mix = ctx.outcomes();
  const outcome = drawVoice(rng, mix);
  const now = new Date().toISOString();
  const call: SandboxCall = {
    sid: newSid("CA"),
    accountSid: ctx.twilio.accountSid,
    to,
    from,
    url,
    method: (field(form, "Method") ?? "POST").toUpperCase(),
    twiml,
    statusCallback,
    statusCallbackEvents: form
      .getAll("StatusCallbackEvent")
      .flatMap((e) => e.split(/[\s,]+/))
      .filter(Boolean),
    machineDetection: field(form, "MachineDetection"),
    asyncAmd: field(form, "AsyncAmd") === "true",
    asyncAmdStatusCallback: amdCallback,
    createdAt: now,
    updatedAt: now,
    status: "queued",
    outcome,
    answeredBy: null,
    digitsSent: [],
    duration: null,
    price: null,
  };
  ctx.store.calls.set(call.sid, call);
  ctx.logger.info({ sid: call.sid, recipient: maskPhone(to), outcome }, "sandbox call received");
  const resource = callResource(call);
  ctx.queue.run(() => runCall(ctx, call, rng, [...(mix.voice.digits ?? [])]));
  return c.json(resource, 201);
}

/** The call resource as Twilio's API returns it. */
export function callResource(call: SandboxCall): Record<string, unknown> {
  const uri = `/${API_VERSION}/Accounts/${call.accountSid}/Calls/${call.sid}.json`;
  const base = uri.replace(/\.json$/, "");
  return {
    account_sid: call.accountSid,
    annotation: null,
    answered_by: call.answeredBy,
    api_version: API_VERSION,
    caller_name: null,
    date_created: rfc2822(new Date(call.createdAt)),
    date_updated: rfc2822(new Date(call.updatedAt)),
    direction: "outbound-api",
    duration: call.duration === null ? null : String(call.duration),
    end_time: call.duration === null ? null : rfc2822(new Date(call.updatedAt)),
    forwarded_from: null,
    from: call.from,
    from_formatted: call.from,
    group_sid: null,
    parent_call_sid: null,
    phone_number_sid: null,
    price: call.price,
    price_unit: "USD",
    queue_time: "0",
    sid: call.sid,
    start_time: null,
    status: call.status,
    subresource_uris: {
      notifications: `${base}/Notifications.json`,
      recordings: `${base}/Recordings.json`,
      events: `${base}/Events.json`,
    },
    to: call.to,
    to_formatted: call.to,
    trunk_sid: null,
    uri,
  };
}
