// Child process of the benchmark: Tagih's worker alone (TAGIH_ROLE=worker), started with
// `startStack` exactly as `TAGIH_ROLE=worker npm start` starts it, so its memory is its own.
// Configured by Tagih's environment variables; answers memory questions over IPC.
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import v8 from "node:v8";
import { loadConfig } from "../runtime/config.ts";
import { createLogger } from "../runtime/logger.ts";
import { startStack } from "../runtime/stack.ts";

/** `resetLoop`: start a new event-loop delay window after answering. */
export type WorkerRequest = { type: "memory"; gc?: boolean; resetLoop?: boolean };

export interface WorkerMemory {
  rss: number;
  /** VmHWM: the largest RSS the process had so far. */
  peakRss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  heapSizeLimit: number;
  /** How many workflows the worker keeps in its sticky cache, and what set that number. */
  maxCachedWorkflows: number;
  cacheSetBy: string;
  /** Event-loop delay of the worker's main thread (activities, the Temporal client) since the last reset, in ms. */
  eventLoopDelay: { p50: number; p99: number; max: number };
}

export type WorkerMessage = { type: "ready" } | { type: "memory"; memory: WorkerMemory } | { type: "failed"; error: string };

const send = (message: WorkerMessage) => process.send?.(message);

const config = loadConfig();
const logger = createLogger(config.logLevel);
const stack = await startStack(config, logger).catch((error: unknown) => {
  send({ type: "failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

process.on("message", (request: WorkerRequest) => {
  if (request.type !== "memory") return;
  if (request.gc) (globalThis as { gc?: () => void }).gc?.();
  send({ type: "memory", memory: memory() });
  if (request.resetLoop) loop.reset();
});

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void stack
    .stop()
    .catch((error: unknown) => logger.error({ err: error }, "error while stopping"))
    .finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.on("disconnect", stop);

send({ type: "ready" });

/** TAGIH_WORKER_CACHED_WORKFLOWS where this version has it, else the SDK's default for the heap (worker-options.js, reuseV8Context). */
function cacheSize(heapMiB: number): Pick<WorkerMemory, "maxCachedWorkflows" | "cacheSetBy"> {
  const configured = (config as Partial<{ workerCachedWorkflows: number }>).workerCachedWorkflows;
  if (configured !== undefined) return { maxCachedWorkflows: configured, cacheSetBy: "TAGIH_WORKER_CACHED_WORKFLOWS" };
  return { maxCachedWorkflows: Math.max(Math.floor((Math.max(heapMiB - 200, 0) * 600) / 1024), 10), cacheSetBy: "the SDK's default for this heap limit" };
}

function memory(): WorkerMemory {
  const usage = process.memoryUsage();
  const status = readFileSync("/proc/self/status", "utf8");
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  const heapSizeLimit = v8.getHeapStatistics().heap_size_limit;
  const heapMiB = heapSizeLimit / 1024 / 1024;
  return {
    rss: kib("VmRSS") || usage.rss,
    peakRss: kib("VmHWM"),
    heapUsed: usage.heapUsed,
    heapTotal: usage.heapTotal,
    external: usage.external,
    heapSizeLimit,
    ...cacheSize(heapMiB),
    eventLoopDelay: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
  };
}
