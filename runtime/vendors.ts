import { randomBytes } from "node:crypto";
import type twilio from "twilio";
import { startVendorSandbox, type OutcomeMix, type VendorSandbox } from "../sandbox/index.ts";
import { createTwilioClient } from "../vendors/twilio.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./logger.ts";

export interface Vendors {
  twilio: twilio.Twilio;
  twilioAuthToken: string;
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
  sandboxOptions: { port: number; seed: number; outcomes: Record<string, unknown>; apiUrl: string },
): Promise<Vendors> {
  if (config.twilio) {
    return { twilio: createTwilioClient(config.twilio), twilioAuthToken: config.twilio.authToken, sandbox: undefined };
  }
  const credentials = { accountSid: `AC${randomBytes(16).toString("hex")}`, authToken: randomBytes(16).toString("hex") };
  const sandbox = await startVendorSandbox({
    port: sandboxOptions.port,
    seed: sandboxOptions.seed,
    outcomes: sandboxOptions.outcomes as Partial<OutcomeMix>,
    twilio: credentials,
    // Callbacks are signed over PUBLIC_BASE_URL, as Twilio would, but delivered locally.
    deliverTo: sandboxOptions.apiUrl,
    logger: logger.child({ component: "vendor-sandbox" }),
  });
  return { twilio: createTwilioClient({ ...credentials, apiBaseUrl: sandbox.url }), twilioAuthToken: credentials.authToken, sandbox };
}
