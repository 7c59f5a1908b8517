import type { Client } from "@temporalio/client";
import type { Pool } from "pg";
import type { RowValidators } from "../store/import-validation.ts";
import type { Database } from "../runtime/database.ts";
import type { Logger } from "../runtime/logger.ts";
import type { PrivateEndpoints } from "../vendors/endpoints.ts";

/** What the HTTP API needs from the world, handed in by the process that serves it. */
export interface ApiDeps {
  db: Database;
  /** The pool under `db`: statements on the callback path, which Prisma would compile on every call. */
  sql: Pool;
  /** node-postgres on the same database, for writes of many rows a statement (imports). */
  bulk: Pool;
  /** Threads that validate import rows off the event loop. */
  rowValidators: RowValidators;
  temporal: Client;
  logger: Logger;
  settings: {
    /** The address vendors call; webhook signatures are computed over it. */
    publicBaseUrl: string;
    taskQueue: string;
    twilioAuthToken: string;
    /** SendGrid's signed event webhook verification key (base64 DER or PEM); unset: its events are refused with 503. */
    sendgridWebhookPublicKey?: string;
    /** Keys the HMAC of unsubscribe links (the worker's email sender makes them with the same); unset: links answer 503. */
    unsubscribeSecret?: string;
    /** What the inbound-message and IVR webhooks need; unset (unit tests of other routes): no links, agents or IVR SMS. */
    twilioChannels?: TwilioChannelSettings;
    maxBodyBytes: number;
    /** Verifies payment gateway notifications; unset: they are refused with 503. */
    paymentWebhookSecret?: string;
    /** Whether agencies' endpoints and notify URLs may be http or on private networks. */
    privateEndpoints: PrivateEndpoints;
  };
}

/** Settings of the Twilio inbound-message and IVR webhooks. */
export interface TwilioChannelSettings {
  /** The Twilio account (and a Twilio-compatible API address, e.g. the sandbox) the IVR's payment-link SMS goes through. */
  accountSid: string;
  apiBaseUrl?: string;
  smsFrom: string;
  /** Caller id when the IVR dials the ops line. */
  voiceFrom: string;
  creditorName: string;
  /** The ops line: "speak to an agent" dials it; voicemails and help replies name it. */
  opsPhone?: string;
  /** Base of the payment links "pay now" texts; unset: the menu has no "pay now". */
  paymentLinkBase?: string;
  /** The person a limited-content voicemail names. */
  voicemailName: string;
}
