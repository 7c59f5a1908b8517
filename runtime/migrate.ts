import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { repoRoot } from "./config.ts";
import { postgresConfig } from "./database-url.ts";
import type { Logger } from "./logger.ts";

/**
 * Applies pending migrations from `prisma/migrations` with the Prisma CLI (JS engine, so
 * nothing is downloaded), then the routines of `prisma/routines`.
 * @example await migrate(databaseUrl, logger)
 */
export async function migrate(databaseUrl: string, logger: Logger): Promise<void> {
  await deployMigrations(databaseUrl, logger);
  await applyRoutines(databaseUrl, logger);
}

/**
 * Applies `prisma/routines/*.sql` (functions and triggers, written CREATE OR REPLACE) in name
 * order, in one transaction. Not migrations: the driver adapter runs a migration script split
 * at every ";", which breaks PL/pgSQL bodies; and a routine is replaced whole on every start.
 */
async function applyRoutines(databaseUrl: string, logger: Logger): Promise<void> {
  const dir = join(repoRoot, "prisma", "routines");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  const client = new pg.Client(postgresConfig(databaseUrl));
  await client.connect();
  try {
    await client.query("BEGIN");
    // Processes starting together (API, worker) take turns: concurrent replaces of one function fail.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('tagih routines'))");
    for (const file of files) {
      try {
        await client.query(readFileSync(join(dir, file), "utf8"));
      } catch (error) {
        throw new Error(`routine ${file} failed: ${(error as Error).message}`, { cause: error });
      }
    }
    await client.query("COMMIT");
    logger.debug({ files }, "routines applied");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

function deployMigrations(databaseUrl: string, logger: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(repoRoot, "node_modules", ".bin", "prisma"), ["migrate", "deploy"], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) {
        logger.debug({ output }, "migrations applied");
        resolve();
      } else reject(new Error(`prisma migrate deploy failed (exit ${code}): ${output.trim()}`));
    });
  });
}
