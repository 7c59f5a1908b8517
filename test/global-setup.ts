// Starts the services every integration test shares: an embedded PostgreSQL (its data
// folder kept between runs, the database recreated each run) and a Temporal dev server
// started by the SDK from the CLI that `scripts/setup.mjs` installed. The workflow code is
// bundled once for all test files.
import { TestWorkflowEnvironment } from "@temporalio/testing";
import { bundleWorkflowCode } from "@temporalio/worker";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { postgresConfig } from "../runtime/database-url.ts";
import { repoRoot } from "../runtime/config.ts";
import { startEmbeddedPostgres } from "../runtime/embedded-postgres.ts";
import { createLogger } from "../runtime/logger.ts";
import { migrate } from "../runtime/migrate.ts";
import { toolPath } from "../runtime/temporal-dev-server.ts";
import { freePort } from "./ports.ts";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
    workflowBundlePath: string;
    /** Where test files take their blocks of phone numbers (test/zones.ts). */
    phoneBlocksDir: string;
  }
}

export default async function setup(project: TestProject) {
  const logger = createLogger("warn");
  // TAGIH_TEST_DIR lets several test runs share a machine without sharing a database.
  const dir = process.env.TAGIH_TEST_DIR ? resolve(process.env.TAGIH_TEST_DIR) : join(repoRoot, ".data", "test");
  mkdirSync(dir, { recursive: true });

  const postgres = await startEmbeddedPostgres({ dataDir: join(dir, "postgres"), port: await freePort(), database: "postgres", logger });
  const databaseUrl = postgres.url.replace(/\/postgres$/, "/tagih_test");
  const admin = new pg.Client(postgresConfig(postgres.url));
  await admin.connect();
  await admin.query("DROP DATABASE IF EXISTS tagih_test WITH (FORCE)");
  await admin.query("CREATE DATABASE tagih_test");
  await admin.end();
  await migrate(databaseUrl, logger);

  const temporal = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: "existing-path", path: toolPath("temporal") }, ip: "127.0.0.1", extraArgs: ["--log-level", "error"] },
  });

  const { code } = await bundleWorkflowCode({
    workflowsPath: join(repoRoot, "workflows", "index.ts"),
    logger: { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} },
  });
  const workflowBundlePath = join(dir, "workflows.bundle.js");
  writeFileSync(workflowBundlePath, code);

  project.provide("databaseUrl", databaseUrl);
  project.provide("temporalAddress", temporal.address);
  project.provide("workflowBundlePath", workflowBundlePath);
  // Numbers taken by the last run's files are free again with its database gone.
  const phoneBlocksDir = join(dir, "phone-blocks");
  rmSync(phoneBlocksDir, { recursive: true, force: true });
  mkdirSync(phoneBlocksDir);
  project.provide("phoneBlocksDir", phoneBlocksDir);

  return async () => {
    await temporal.teardown();
    await postgres.stop();
  };
}
