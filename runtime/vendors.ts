import { randomBytes } from "node:crypto";
import type twilio from "twilio";
import { createSmsSender } from "../activities/channels/sms.ts";
import type { ChannelSender } from "../activities/channels/types.ts";
import type { Channel } from "../domain/channel.ts";
import { startVendorSandbox, type OutcomeMix, type VendorSandbox } from "../sandbox/index.ts";
import { createTwilioClient } from "../vendors/twilio.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./logger.ts";

export interface Vendors {
  twilio: twilio.Twilio;
  twilioAuthToken: string;
  /** One sender per channel the configured vendors carry. */
  senders: Partial<Record<Channel, ChannelSender>>;
  /** Running when at least one vendor has no credentials. */
  sandbox: VendorSandbox | undefined;
}

/**
 * Real vendor clients where credentials are configured; otherwise the local vendor sandbox
 * with credentials made up for this process, and our clients pointed at it.
 */
export async function connectVendors(
  config: Config,
  logger: Logger,
  db: Parameters<typeof createSmsSender>[0]["db"],
  sandboxOptions: { port: number; seed: number; outcomes: Record<string, unknown>; apiUrl: string },
): Promise<Vendors> {
  let sandbox: VendorSandbox | undefined;
  let credentials = config.twilio;
  if (!credentials) {
    const made = { accountSid: `AC${randomBytes(16).toString("hex")}`, authToken: randomBytes(16).toString("hex") };
    sandbox = await startVendorSandbox({
      port: sandboxOptions.port,
      seed: sandboxOptions.seed,
      outcomes: sandboxOptions.outcomes as Partial<OutcomeMix>,
      twilio: made,
      // Callbacks are signed over PUBLIC_BASE_URL, as Twilio would, but delivered locally.
      deliverTo: sandboxOptions.apiUrl,
      logger: logger.child({ component: "vendor-sandbox" }),
    });
    credentials = { ...made, apiBaseUrl: sandbox.url };
  }
  const twilio = createTwilioClient(credentials);
  const senders: Partial<Record<Channel, ChannelSender>> = {
    sms: createSmsSender({
      db,
      twilio,
      from: config.smsFrom,
      creditorName: config.creditorName,
      statusCallback: `${config.publicBaseUrl}/v1/webhooks/twilio/status`,
    }),
  };
  return { twilio, twilioAuthToken: credentials.authToken, senders, sandbox };
}
