import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import { postgresConfig } from "./database-url.ts";

export type Database = PrismaClient;

/**
 * A Prisma client on the node-postgres driver adapter (no native engine to download).
 * @example const db = createDatabase(process.env.DATABASE_URL!, 20);
 */
export function createDatabase(url: string, poolSize = 20): Database {
  return new PrismaClient({ adapter: new PrismaPg({ ...postgresConfig(url), max: poolSize }) });
}

/**
 * node-postgres on the same database for statements that carry thousands of rows (imports):
 * two connections, one for an import's open transaction and one for its progress beside it.
 * Connections open on first use.
 */
export function createBulkPool(url: string): pg.Pool {
  return new pg.Pool({ ...postgresConfig(url), max: 2 });
}
