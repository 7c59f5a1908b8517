import { serve, type ServerType } from "@hono/node-server";
import { Client } from "@temporalio/client";
import { NativeConnection, Worker } from "@temporalio/worker";
import { join } from "node:path";
import { createActivities } from "../activities/index.ts";
import { createApp } from "../api/app.ts";
import { createOutcomeSignaller, startOutcomeSweeper } from "../api/outcome-signals.ts";
import { createPaymentLinks } from "../api/webhooks/payment-links.ts";
import { failInterruptedImports, IMPORT_UPLOAD_LIMIT_MS } from "../store/account-import.ts";
import { ensureAdminKey } from "../store/api-keys.ts";
import { pruneIdempotencyKeys } from "../store/idempotency.ts";
import type { VendorSandbox } from "../sandbox/index.ts";
import type { Config } from "./config.ts";
import { createRowValidators } from "../store/import-validation.ts";
import { createBulkPool, createDatabase, createPool, type Database } from "./database.ts";
import type { Pool } from "pg";
import { watchHolidayCalendars } from "./calendar-watch.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";
import type { Logger } from "./logger.ts";
import { migrate } from "./migrate.ts";
import { ensureSchedules } from "./schedules.ts";
import { startTemporalDevServer } from "./temporal-dev-server.ts";
import { connectVendors } from "./vendors.ts";
import { workflowBundlePath } from "./workflow-bundle.ts";

export interface Stack {
  apiUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | undefined;
  sandbox: VendorSandbox | undefined;
  /** An admin API key generated at this start (none existed and none was configured): show it once. */
  generatedAdminKey: string | undefined;
  db: Database;
  /** The pool under `db`. */
  sql: Pool;
  temporal: Client;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** A workflow bundle built beforehand (tests build one for all files). */
  workflowBundlePath?: string;
  enrolPageSize?: number;
}

/**
 * Starts Tagih: PostgreSQL (embedded unless DATABASE_URL), migrations, Temporal (the dev
 * server unless TEMPORAL_ADDRESS), vendors (sandbox unless credentials), the worker and the
 * API. `stop()` undoes all of it in reverse order.
 */
export async function startStack(config: Config, logger: Logger, options: StackOptions = {}): Promise<Stack> {
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) {
      await s().catch((error: unknown) => logger.warn({ err: error }, "error while stopping"));
    }
  };
  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres({ dataDir: join(config.dataDir, "postgres"), port: config.postgresPort, database: "tagih", logger });
      stops.push(pg.stop);
      databaseUrl = pg.url;
    }
    await migrate(databaseUrl, logger);

    let temporalAddress = config.temporalAddress;
    let temporalUiUrl: string | undefined;
    if (!temporalAddress) {
      const dev = await startTemporalDevServer({
        dbFile: join(config.dataDir, "temporal.sqlite"),
        port: config.temporalPort,
        uiPort: config.temporalUiPort,
        namespace: config.namespace,
        logger,
      });
      stops.push(dev.stop);
      temporalAddress = dev.address;
      temporalUiUrl = dev.uiUrl;
    }

    const sql = createPool(databaseUrl, logger);
    const db = createDatabase(sql);
    stops.push(() => db.$disconnect()); // ends `sql` too
    const bulk = createBulkPool(databaseUrl, logger);
    stops.push(() => bulk.end());
    const rowValidators = createRowValidators();
    stops.push(() => rowValidators.close());
    const apiUrl = `http://127.0.0.1:${config.port}`;
    const vendors = await connectVendors(config, logger, db, { port: config.sandboxPort, seed: config.sandboxSeed, outcomes: config.sandboxOutcomes, apiUrl });
    if (vendors.sandbox) stops.push(vendors.sandbox.close);
    // One native connection for the API, the activities and the worker: its gRPC runs off the
    // JavaScript thread (a callback's signal cost that thread a JavaScript gRPC call each), and
    // a client on the worker's own connection lets enrolPage start workflows eagerly.
    const connection = await NativeConnection.connect({ address: temporalAddress });
    stops.push(() => connection.close());
    const temporal = new Client({ connection, namespace: config.namespace });

    if (config.role !== "api") {
      const worker = await Worker.create({
        connection,
        namespace: config.namespace,
        taskQueue: config.taskQueue,
        maxCachedWorkflows: config.workerCachedWorkflows,
        workflowBundle: {
          codePath: options.workflowBundlePath ?? (await workflowBundlePath({ prebuilt: config.workflowBundle, dataDir: config.dataDir, logger })),
        },
        activities: createActivities({
          db,
          sql,
          senders: vendors.senders,
          temporal,
          logger: logger.child({ component: "activities" }),
          clock: () => new Date(),
          settings: {
            webhookSecret: config.webhookSecret,
            privateEndpoints: config.privateEndpoints,
            publicBaseUrl: config.publicBaseUrl,
            taskQueue: config.taskQueue,
            // Between pages no start is in flight (the page's tail, its database work, a campaign
            // workflow task): larger pages keep the starts flowing. A retried page repeats at most this many.
            enrolPageSize: options.enrolPageSize ?? 1000,
          },
        }),
      });
      const running = worker.run();
      stops.push(async () => {
        if (worker.getState() === "RUNNING") worker.shutdown();
        await running;
      });
      await ensureSchedules(temporal, config.taskQueue, logger);
      const stopWatch = watchHolidayCalendars(logger.child({ component: "compliance" }));
      stops.push(() => Promise.resolve(stopWatch()));
    }

    let generatedAdminKey: string | undefined;
    if (config.role !== "worker") {
      const admin = await ensureAdminKey(db, config.adminApiKey);
      generatedAdminKey = admin.generated;
      if (admin.revoked) logger.warn("TAGIH_ADMIN_API_KEY was revoked and stays refused; set another key, or unset it and use an admin key you hold");
      // Idempotency rows count as absent after 24 hours; this only frees their space.
      const prune = setInterval(
        () => void pruneIdempotencyKeys(db).catch((error: unknown) => logger.warn({ err: error }, "could not prune idempotency keys")),
        3_600_000,
      );
      prune.unref();
      stops.push(() => Promise.resolve(clearInterval(prune)));
      // Imports a stopped process left running are marked failed, at start and every 5 minutes.
      const failInterrupted = () =>
        void failInterruptedImports(db)
          .then((failed) => failed > 0 && logger.warn({ failed }, "marked failed the imports a stopped process left running"))
          .catch((error: unknown) => logger.warn({ err: error }, "could not mark interrupted imports failed"));
      failInterrupted();
      const interrupted = setInterval(failInterrupted, 300_000);
      interrupted.unref();
      stops.push(() => Promise.resolve(clearInterval(interrupted)));
      const settings = {
        publicBaseUrl: config.publicBaseUrl,
        taskQueue: config.taskQueue,
        privateEndpoints: config.privateEndpoints,
        twilioAuthToken: vendors.twilioAuthToken,
        sendgridWebhookPublicKey: vendors.sendgridWebhookPublicKey,
        unsubscribeSecret: vendors.unsubscribeSecret,
        twilioChannels: {
          accountSid: vendors.twilioAccountSid,
          apiBaseUrl: vendors.twilioApiBaseUrl,
          smsFrom: config.smsFrom,
          voiceFrom: config.voiceFrom,
          creditorName: config.creditorName,
          opsPhone: config.opsPhone,
          paymentLinkBase: config.paymentLinkBase,
          voicemailName: config.voicemailName,
        },
        maxBodyBytes: config.maxBodyBytes,
        paymentWebhookSecret: config.paymentWebhookSecret,
      };
      const app = createApp({
        db,
        sql,
        bulk,
        rowValidators,
        temporal,
        logger: logger.child({ component: "api" }),
        settings,
      });
      const server = await listen(app.fetch, config.port);
      stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const paymentLinks = createPaymentLinks({ db, logger, channels: settings.twilioChannels, settings });
      stops.push(startOutcomeSweeper(createOutcomeSignaller({ db, temporal, logger, paymentLinks }), logger.child({ component: "outcome-signals" })));
    }

    return { apiUrl, temporalAddress, temporalUiUrl, sandbox: vendors.sandbox, generatedAdminKey, db, sql, temporal, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function listen(fetch: (request: Request) => Response | Promise<Response>, port: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname: "0.0.0.0" }, () => resolve(server));
    // Node ends a request still receiving its body after 5 minutes; a portfolio import streams longer.
    (server as { requestTimeout?: number }).requestTimeout = IMPORT_UPLOAD_LIMIT_MS;
    server.once("error", reject);
  });
}
