import type { PoolConfig } from "pg";

/**
 * Splits a postgres:// URL into the config object node-postgres and the Prisma adapter take.
 * Sessions show up in pg_stat_activity as "tagih" unless the URL names another
 * `application_name`, as libpq's URLs do.
 * @example postgresConfig("postgres://u:p@localhost:5432/tagih").database // "tagih"
 */
export function postgresConfig(url: string): PoolConfig {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, "")) || "postgres",
    application_name: u.searchParams.get("application_name") ?? "tagih",
    ssl: u.searchParams.get("sslmode") === "require" ? { rejectUnauthorized: false } : undefined,
  };
}
