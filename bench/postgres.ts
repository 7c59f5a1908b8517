// One embedded PostgreSQL for the whole run: Tagih's databases and the production-shaped
// Temporal server's. Under `.data/` because, as root, its files must be reachable by the
// postgres user it runs as.
import { join } from "node:path";
import pg from "pg";
import { postgresConfig } from "../runtime/database-url.ts";
import { startEmbeddedPostgres } from "../runtime/embedded-postgres.ts";
import type { Logger } from "../runtime/logger.ts";
import { freePort } from "../test/ports.ts";
import { onCleanup } from "./processes.ts";

export interface BenchPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** A postgres:// URL of `database` on this server. */
  url(database: string): string;
  /** Drops `database` if it exists and creates it empty. */
  freshDatabase(database: string): Promise<string>;
  dropDatabase(database: string): Promise<void>;
}

export async function startBenchPostgres(dir: string, logger: Logger): Promise<BenchPostgres> {
  const port = await freePort();
  const server = await startEmbeddedPostgres({ dataDir: join(dir, "postgres"), port, database: "postgres", logger });
  onCleanup("embedded PostgreSQL", server.stop);
  const admin = postgresConfig(server.url);
  const url = (database: string) => server.url.replace(/\/postgres$/, `/${encodeURIComponent(database)}`);
  const adminQuery = async (sql: string) => {
    const client = new pg.Client(admin);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const quoted = (name: string) => `"${name.replace(/"/g, '""')}"`;
  return {
    host: admin.host!,
    port,
    user: admin.user!,
    password: String(admin.password),
    url,
    async freshDatabase(database) {
      await adminQuery(`DROP DATABASE IF EXISTS ${quoted(database)} WITH (FORCE)`);
      await adminQuery(`CREATE DATABASE ${quoted(database)}`);
      return url(database);
    },
    async dropDatabase(database) {
      await adminQuery(`DROP DATABASE IF EXISTS ${quoted(database)} WITH (FORCE)`);
    },
  };
}
