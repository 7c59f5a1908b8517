/**
 * The vendor sandbox: a local Twilio + SendGrid that speaks their wire formats, so the real SDKs
 * (see vendors/) work against it unchanged. `npm start` runs it for a vendor without
 * credentials; tests run it to see what our code sends and how it copes with what comes back.
 */
import { randomInt } from "node:crypto";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { CallbackQueue } from "./callbacks.ts";
import { DEFAULT_OUTCOMES, mergeOutcomes } from "./outcomes.ts";
import { createRng } from "./random.ts";
import { sendgridRoutes } from "./sendgrid.ts";
import { callRoutes } from "./twilio-calls.ts";
import { twilioAuth, twilioError } from "./twilio-common.ts";
import { messageRoutes } from "./twilio-messages.ts";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { SandboxContext } from "./context.ts";
import type { OutcomeMix, SandboxLogger, SandboxOptions, VendorSandbox } from "./types.ts";

export { generateSendgridKeyPair } from "./signing.ts";
export { DEFAULT_OUTCOMES } from "./outcomes.ts";
export { maskEmail, maskPhone } from "./mask.ts";
export type * from "./types.ts";

const SILENT: SandboxLogger = { info() {}, warn() {} };

/**
 * Starts the sandbox on 127.0.0.1.
 *
 * @example
 * const sandbox = await startVendorSandbox({
 *   twilio: { accountSid: "AC" + "0".repeat(32), authToken: "secret" },
 *   sendgrid: { privateKeyPem },
 *   sendgridEventsUrl: "https://tagih.example.com/webhooks/sendgrid",
 *   deliverTo: "http://127.0.0.1:3000",
 *   seed: 7,
 *   outcomes: { sms: { delivered: 1 } },
 * });
 * const client = createTwilioClient({ ...credentials, apiBaseUrl: sandbox.url });
 * await client.messages.create({ to, from, body, statusCallback });
 * await sandbox.idle();
 * sandbox.messages()[0].status; // "delivered"
 */
export async function startVendorSandbox(options: SandboxOptions): Promise<VendorSandbox> {
  checkOptions(options);
  const logger = options.logger ?? SILENT;
  const seed = options.seed ?? randomInt(2 ** 31);
  let mix: OutcomeMix = mergeOutcomes(DEFAULT_OUTCOMES, options.outcomes);
  const queue = new CallbackQueue({
    deliverTo: options.deliverTo,
    delayMs: options.delayMs,
    duplicates: options.duplicates,
    reorder: options.reorder,
    logger,
  });
  const ctx: SandboxContext = {
    twilio: options.twilio,
    sendgrid: { privateKeyPem: options.sendgrid?.privateKeyPem, eventsUrl: options.sendgridEventsUrl },
    twilioInboundUrl: options.twilioInboundUrl,
    payments: options.payments,
    queue,
    rng: createRng(seed),
    outcomes: () => mix,
    logger,
    store: { messages: new Map(), calls: new Map(), emails: [] },
  };

  const sandbox = {
    messages: () => structuredClone([...ctx.store.messages.values()]),
    calls: () => structuredClone([...ctx.store.calls.values()]),
    emails: () => structuredClone(ctx.store.emails),
    callbacks: () => structuredClone(queue.records),
  };
  const app = createApp(ctx, sandbox);
  const { server, port } = await listen(app, options.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  logger.info({ url, seed }, "vendor sandbox listening");

  return {
    url,
    seed,
    ...sandbox,
    idle: () => queue.idle(),
    setOutcomes(update) {
      mix = mergeOutcomes(mix, update);
    },
    async close() {
      await queue.close();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      });
    },
  };
}

function createApp(ctx: SandboxContext, records: Record<"messages" | "calls" | "emails" | "callbacks", () => unknown[]>): Hono {
  const app = new Hono();
  const account = "/2010-04-01/Accounts/:accountSid";
  app.use(`${account}/*`, twilioAuth(ctx.twilio.accountSid, ctx.twilio.authToken));
  app.route(account, messageRoutes(ctx));
  app.route(account, callRoutes(ctx));
  app.route("/", sendgridRoutes(ctx));
  for (const name of ["messages", "calls", "emails", "callbacks"] as const) {
    app.get(`/sandbox/${name}`, (c) => c.json(records[name]()));
  }
  app.notFound((c) =>
    c.req.path.startsWith("/2010-04-01/")
      ? twilioError(c, 404, 20404, `The requested resource ${c.req.path} was not found`)
      : c.json({ errors: [{ message: "Not Found", field: null, help: null }] }, 404),
  );
  app.onError((err, c) => {
    ctx.logger.warn({ err: String(err), path: c.req.path }, "sandbox request failed");
    return c.json({ message: "Internal Server Error" }, 500);
  });
  return app;
}

function checkOptions({ delayMs, duplicates, twilio }: SandboxOptions): void {
  if (!twilio?.accountSid || !twilio.authToken) throw new Error("twilio.accountSid and twilio.authToken are required");
  const range = typeof delayMs === "number" ? { min: delayMs, max: delayMs } : delayMs;
  if (range && !(range.min >= 0 && range.max >= range.min)) throw new Error("delayMs must be >= 0 (min <= max)");
  if (duplicates !== undefined && !(duplicates >= 0 && duplicates <= 1)) throw new Error("duplicates must be a probability in [0, 1]");
}

function listen(app: Hono, port: number): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve({ server: server as Server, port: info.port }),
    ) as Server;
    server.once("error", reject);
  });
}
