// Writes prisma/migrations/<stamp>_<name>/migration.sql from the difference between the
// committed schema (git HEAD) and the edited one. `prisma migrate dev` cannot run with the
// JS engine's driver adapter, so migrations are diffed instead; the diff needs a scratch
// database, which this starts embedded and throws away.
// Usage: node --import tsx scripts/new-migration.ts <name> [--from-empty]
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../runtime/config.ts";
import { startEmbeddedPostgres } from "../runtime/embedded-postgres.ts";
import { createLogger } from "../runtime/logger.ts";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: new-migration.ts <name in snake_case>");
  process.exit(1);
}
// Under the repo, not /tmp: as root, PostgreSQL runs as its own user and must reach it.
mkdirSync(join(repoRoot, ".data"), { recursive: true });
const scratch = mkdtempSync(join(repoRoot, ".data", "migration-"));
chmodSync(scratch, 0o755);
let committed = "";
if (!process.argv.includes("--from-empty"))
  try {
    committed = execFileSync("git", ["show", "HEAD:prisma/schema.prisma"], {
      cwd: repoRoot,
      encoding: "utf8",
    });
  } catch {
    // no committed schema yet: diff from an empty database
  }
const pg = await startEmbeddedPostgres({
  dataDir: join(scratch, "pg"),
  port: 54399,
  database: "scratch",
  logger: createLogger("warn"),
});
try {
  const from = committed ? ["--from-schema-datamodel", join(scratch, "committed.prisma")] : ["--from-empty"];
  if (committed) writeFileSync(join(scratch, "committed.prisma"), committed);
  const sql = execFileSync(
    join(repoRoot, "node_modules", ".bin", "prisma"),
    ["migrate", "diff", ...from, "--to-schema-datamodel", "prisma/schema.prisma", "--script"],
    {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: pg.url },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  const dir = join(repoRoot, "prisma", "migrations", `${stamp}_${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "migration.sql"), sql);
  console.log(`wrote ${join("prisma", "migrations", `${stamp}_${name}`, "migration.sql")}`);
} finally {
  await pg.stop();
  rmSync(scratch, { recursive: true, force: true });
}
