import type { Client } from "@temporalio/client";
import type pg from "pg";
import type { Channel } from "../domain/channel.ts";
import type { Database } from "../runtime/database.ts";
import type { Logger } from "../runtime/logger.ts";
import type { PrivateEndpoints } from "../vendors/endpoints.ts";
import type { ChannelSender } from "./channels/types.ts";

/** Everything activities touch, handed in by the worker (or a test). */
export interface ActivityDeps {
  db: Database;
  /** The node-postgres pool under `db`, for statements every contact runs (the Prisma client costs several times the CPU per statement). */
  sql: pg.Pool;
  /** One sender per channel that has a vendor configured. */
  senders: Partial<Record<Channel, ChannelSender>>;
  temporal: Client;
  logger: Logger;
  /** The worker's clock; tests may hand in another. */
  clock: () => Date;
  settings: {
    publicBaseUrl: string;
    taskQueue: string;
    /** Signs `notify` actions (HMAC-SHA256); unset sends them unsigned. */
    webhookSecret?: string;
    /** Accounts enrolled per campaign-workflow page. */
    enrolPageSize: number;
    /** Whether agencies' endpoints and notify URLs may be http or on private networks. */
    privateEndpoints: PrivateEndpoints;
  };
}
