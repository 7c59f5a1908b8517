import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import { postgresConfig } from "./database-url.ts";
import type { Logger } from "./logger.ts";

export type Database = PrismaClient;

/**
 * The node-postgres pool a Prisma client runs on (commits wait for the disk). Statements on
 * the callback path use it directly: Prisma compiles even a raw statement on every call.
 *
 * A connection the server closes while idle (a restart, an administrator ending sessions) is
 * logged and dropped; node-postgres would otherwise throw it out of the process.
 * @example const sql = createPool(process.env.DATABASE_URL!, logger); const db = createDatabase(sql);
 */
export function createPool(url: string, logger: Logger, size = 20): pg.Pool {
  return logIdleErrors(new pg.Pool({ ...postgresConfig(url), max: size }), logger);
}

/**
 * A Prisma client on the node-postgres driver adapter (no native engine to download), on a
 * pool from createPool; `$disconnect()` ends the pool.
 * @example const db = createDatabase(createPool(process.env.DATABASE_URL!, logger));
 */
export function createDatabase(pool: pg.Pool): Database {
  return new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
}

/**
 * node-postgres on the same database for statements that carry thousands of rows: import
 * batches and the progress of all-or-nothing imports (whose transactions take connections of
 * their own with the same settings), and fine-grained reports. Connections open on first use.
 *
 * Its commits do not wait for the disk (synchronous_commit off): an import commits a batch
 * every thousand rows, and waiting for each flush bounded it by the disk's latency. Nothing
 * is promised meanwhile: the import's final status is written through the Prisma client with
 * a synchronous commit, which flushes the log up to it and so every batch before it. A crash
 * loses at most the last batches, each with its own progress counters, and leaves the import
 * "running" as any crash mid-import does.
 *
 * Its work_mem is 32 MB: with PostgreSQL's default 4 MB a fine-grained report sorted its
 * rows to aggregate them instead of hashing them, at nearly twice the time.
 */
export function createBulkPool(url: string, logger: Logger): pg.Pool {
  return logIdleErrors(new pg.Pool({ ...postgresConfig(url), max: 4, options: "-c synchronous_commit=off -c work_mem=32MB" }), logger);
}

/**
 * Runs `work` on one connection of `pool` inside a transaction: committed when `work`
 * returns, rolled back when it throws (a connection whose rollback failed is discarded).
 * @example await inTransaction(sql, (tx) => tx.query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE", [id]))
 */
export async function inTransaction<T>(pool: pg.Pool, work: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const tx = await pool.connect();
  try {
    await tx.query("BEGIN");
    const result = await work(tx);
    await tx.query("COMMIT");
    tx.release();
    return result;
  } catch (error) {
    await tx.query("ROLLBACK").then(
      () => tx.release(),
      (rollback: Error) => tx.release(rollback),
    );
    throw error;
  }
}

function logIdleErrors(pool: pg.Pool, logger: Logger): pg.Pool {
  pool.on("error", (error) => logger.warn({ err: error }, "database connection closed while idle; the pool opens another when needed"));
  return pool;
}
