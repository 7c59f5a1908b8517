import type { Client } from "@temporalio/client";
import type twilio from "twilio";
import type { Database } from "../runtime/database.ts";
import type { Logger } from "../runtime/logger.ts";

/** Everything activities touch, handed in by the worker (or a test). */
export interface ActivityDeps {
  db: Database;
  twilio: twilio.Twilio;
  temporal: Client;
  logger: Logger;
  /** The worker's clock; tests may hand in another. */
  clock: () => Date;
  settings: {
    publicBaseUrl: string;
    smsFrom: string;
    /** The creditor named in messages. */
    creditorName: string;
    taskQueue: string;
    /** Signs `notify` actions (HMAC-SHA256); unset sends them unsigned. */
    webhookSecret?: string;
    /** Accounts enrolled per campaign-workflow page. */
    enrolPageSize: number;
  };
}
