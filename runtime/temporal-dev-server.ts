import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Connection } from "@temporalio/client";
import { repoRoot } from "./config.ts";
import type { Logger } from "./logger.ts";

export interface TemporalDevServerHandle {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/** Where `scripts/setup.mjs` recorded the tools it installed or found. */
export function toolPath(name: "temporal" | "testServer"): string {
  const file = join(repoRoot, ".tools", "tools.json");
  const path = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, string>)[name] : undefined;
  if (!path) throw new Error(`${name} is not installed: run \`node scripts/setup.mjs${name === "testServer" ? " --test" : ""}\` first`);
  return path;
}

/**
 * Runs the Temporal CLI's dev server (a real Temporal server with SQLite persistence and
 * the web UI) as a child process, and waits until it answers.
 * @example const temporal = await startTemporalDevServer({ dbFile: ".data/temporal.sqlite", port: 7233, uiPort: 8233, logger });
 */
export async function startTemporalDevServer(options: {
  /** Omit for an in-memory server (tests). */
  dbFile?: string;
  port: number;
  uiPort?: number;
  namespace?: string;
  logger: Logger;
}): Promise<TemporalDevServerHandle> {
  const { dbFile, port, uiPort, logger } = options;
  const args = [
    "server",
    "start-dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--namespace",
    options.namespace ?? "default",
    "--log-level",
    "warn",
    "--log-format",
    "json",
  ];
  if (dbFile) {
    await mkdir(join(dbFile, ".."), { recursive: true });
    // The SDK's own CI runs SQLite this way: WAL and no fsync per write.
    args.push("--db-filename", dbFile, "--sqlite-pragma", "journal_mode=WAL", "--sqlite-pragma", "synchronous=OFF");
  }
  if (uiPort) args.push("--ui-port", String(uiPort));
  else args.push("--headless");
  args.push("--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true");

  const child = spawn(toolPath("temporal"), args, { stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  const remember = (chunk: Buffer) => {
    output.push(String(chunk));
    if (output.length > 50) output.shift();
  };
  child.stdout?.on("data", remember);
  child.stderr?.on("data", remember);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Temporal dev server exited (code ${child.exitCode}): ${output.join("").slice(-2000)}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`the Temporal dev server did not answer on ${address} within 60 s: ${String(error)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  logger.debug({ address }, "Temporal dev server ready");
  return { address, uiUrl: uiPort ? `http://localhost:${uiPort}` : "", stop: () => stopChild(child, exited) };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
