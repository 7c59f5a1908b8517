import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./config.ts";
import type { Logger } from "./logger.ts";

/**
 * Applies pending migrations from `prisma/migrations` with the Prisma CLI (JS engine, so
 * nothing is downloaded).
 * @example await migrate(databaseUrl, logger)
 */
export function migrate(databaseUrl: string, logger: Logger): Promise<void> {
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
