/**
 * What every part of the sandbox receives: credentials, the delivery queue, the seeded
 * generator, the current outcome mix and the records.
 */
import type { CallbackQueue } from "./callbacks.ts";
import type { Rng } from "./random.ts";
import type { OutcomeMix, SandboxCall, SandboxEmail, SandboxLogger, SandboxMessage, SandboxOptions } from "./types.ts";

export interface SandboxContext {
  twilio: { accountSid: string; authToken: string };
  sendgrid: { privateKeyPem?: string; eventsUrl?: string };
  /** Where debtors' replies go (Twilio's incoming-message webhook). */
  twilioInboundUrl?: string;
  /** The payment gateway debtors pay through. */
  payments?: SandboxOptions["payments"];
  queue: CallbackQueue;
  /** The sandbox's generator; each resource forks its own from it when received. */
  rng: Rng;
  outcomes(): OutcomeMix;
  logger: SandboxLogger;
  store: {
    messages: Map<string, SandboxMessage>;
    calls: Map<string, SandboxCall>;
    emails: SandboxEmail[];
  };
}
