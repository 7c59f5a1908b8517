// The benchmark's side of bench/worker.ts: starts Tagih's worker as a child process and
// asks it for its memory.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../runtime/config.ts";
import { readTicks } from "./cpu.ts";
import { sleep, spawnChild, withTimeout, type ChildHandle } from "./processes.ts";
import type { WorkerMemory, WorkerMessage, WorkerRequest } from "./worker.ts";

export interface WorkerProcess {
  pid: number;
  memory(options?: { gc?: boolean; resetLoop?: boolean }): Promise<WorkerMemory>;
  /** Waits until the worker uses under 5% of a core over 5 s (at most `timeoutMs`). */
  idle(timeoutMs?: number): Promise<boolean>;
  stop(): Promise<void>;
}

/** The environment variables and node flags `npm start` runs the product with (package.json), so the benchmark's worker runs as the product's does. */
export function productStart(): { env: Record<string, string>; flags: string[] } {
  const start = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.start ?? "";
  const command = /(?:^|&&)\s*((?:[A-Z_]+=\S+\s+)*)node\s+([^&]*dist\/runtime\/main\.js)/.exec(start);
  if (!command) throw new Error(`package.json's start script no longer runs dist/runtime/main.js with node: ${start}`);
  const env = Object.fromEntries([...command[1]!.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
  return { env, flags: [...command[2]!.matchAll(/(--max-[a-z-]+=\d+)/g)].map((m) => m[1]!) };
}

/**
 * Starts bench/worker.ts compiled to dist/ (as `npm start` runs the product compiled; the
 * benchmark's script runs setup, which builds it) with `env` (Tagih's configuration
 * variables) and waits until its worker runs.
 */
export async function startWorkerProcess(env: Record<string, string>, logFile: string): Promise<WorkerProcess> {
  const product = productStart();
  const args = ["--expose-gc", ...product.flags, join(repoRoot, "dist", "bench", "worker.js")];
  const child = spawnChild("Tagih worker", process.execPath, args, {
    env: { ...process.env, ...product.env, ...env },
    cwd: repoRoot,
    logFile,
    ipc: true,
  });
  await withTimeout(nextMessage(child, "ready"), 300_000);
  return {
    pid: child.pid,
    memory: async ({ gc = false, resetLoop = false } = {}) => {
      const reply = nextMessage(child, "memory");
      child.process.send({ type: "memory", gc, resetLoop } satisfies WorkerRequest);
      const message = await withTimeout(reply, 30_000);
      return message.memory;
    },
    idle: async (timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const before = readTicks(child.pid);
        await sleep(5000);
        if ((readTicks(child.pid) - before) / 100 / 5 < 0.05) return true;
      }
      return false;
    },
    stop: () => child.stop(),
  };
}

function nextMessage<T extends WorkerMessage["type"]>(child: ChildHandle, type: T): Promise<Extract<WorkerMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: WorkerMessage) => {
      if (message.type === "failed") finish(() => reject(new Error(`the Tagih worker could not start: ${message.error}`)));
      else if (message.type === type) finish(() => resolve(message as Extract<WorkerMessage, { type: T }>));
    };
    const onExit = (code: number | null) => finish(() => reject(new Error(`the Tagih worker exited (code ${code}): ${child.tail()}`)));
    const finish = (settle: () => void) => {
      child.process.off("message", onMessage);
      child.process.off("exit", onExit);
      settle();
    };
    child.process.on("message", onMessage);
    child.process.on("exit", onExit);
  });
}
