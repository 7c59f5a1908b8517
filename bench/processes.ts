// Everything the benchmark starts is registered here, so a normal end, an error, Ctrl-C
// (SIGINT) and SIGTERM all stop it, last started first.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";

type Cleanup = { name: string; run: () => Promise<unknown> };

const cleanups: Cleanup[] = [];
const children = new Set<ChildProcess>();

/** Registers `run` to be called at the end; the returned function unregisters it. */
export function onCleanup(name: string, run: () => Promise<unknown>): () => void {
  const entry = { name, run };
  cleanups.push(entry);
  return () => {
    const index = cleanups.indexOf(entry);
    if (index >= 0) cleanups.splice(index, 1);
  };
}

/** Runs every registered cleanup, newest first; one that fails or hangs does not stop the others. */
export async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    const { name, run } = cleanups.pop()!;
    await withTimeout(run(), 30_000).catch((error: unknown) => console.error(`bench: stopping ${name} failed: ${String(error)}`));
  }
}

let stopping = false;

/** Ctrl-C and SIGTERM clean up and exit; a crash still kills the children we spawned. */
export function installSignalHandlers(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\nbench: ${signal}, stopping everything it started…`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
  process.on("exit", () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
}

export function isStopping(): boolean {
  return stopping;
}

export interface ChildHandle {
  name: string;
  process: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  /** The last lines the child printed. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns a child process whose output goes to `logFile`, and registers its stop.
 * @example const server = spawnChild("temporal server", bin, ["start"], { logFile: ".data/bench/server.log" });
 */
export function spawnChild(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; logFile: string; ipc?: boolean; cwd?: string },
): ChildHandle {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: options.ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  children.add(child);
  const log = createWriteStream(options.logFile);
  const recent: string[] = [];
  const remember = (chunk: Buffer) => {
    log.write(chunk);
    recent.push(String(chunk));
    if (recent.length > 40) recent.shift();
  };
  child.stdout?.on("data", remember);
  child.stderr?.on("data", remember);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child);
      log.end();
      resolve(code);
    }),
  );
  const stop = async (graceMs = 15_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const unregister = onCleanup(name, stop);
  void exited.then(unregister);
  return { name, process: child, pid: child.pid, exited, tail: () => recent.join("").slice(-3000), stop };
}

/** Runs a command to its end and returns its output; rejects with the output on a non-zero exit. */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs) : undefined;
    child.once("error", (error) => {
      clearTimeout(timer);
      children.delete(child);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(" ")} failed (${signal ?? `exit ${code}`}): ${output.trim().slice(-2000)}`));
    });
  });
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs a benchmark's `main`: exit 0 when it ends, 1 (after cleaning up) when it throws.
 * @example runBench(main);
 */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exitCode = 1;
      void cleanupAll().finally(() => process.exit(1));
    },
  );
}
