import type { Client } from "@temporalio/client";
import type { Database } from "../runtime/database.ts";
import type { Logger } from "../runtime/logger.ts";

/** What the HTTP API needs from the world, handed in by the process that serves it. */
export interface ApiDeps {
  db: Database;
  temporal: Client;
  logger: Logger;
  settings: {
    /** The address vendors call; webhook signatures are computed over it. */
    publicBaseUrl: string;
    taskQueue: string;
    twilioAuthToken: string;
    maxBodyBytes: number;
  };
}
