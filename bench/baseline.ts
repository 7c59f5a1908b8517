// The yardstick: how fast this Temporal server starts workflows that do nothing, with as
// many starts in flight as Tagih's enrolment uses, while a worker runs them.
import { Client, Connection } from "@temporalio/client";
import { bundleWorkflowCode, NativeConnection, Worker } from "@temporalio/worker";
import { fileURLToPath } from "node:url";
import { availableParallelism } from "node:os";
import type { Logger } from "../runtime/logger.ts";
import { cpuBetween, sampleCpu, type CpuWindow, type Namer } from "./cpu.ts";
import { sleep } from "./processes.ts";
import type { TemporalServer } from "./temporal-servers.ts";

export interface BaselineResult {
  count: number;
  concurrency: number;
  startSeconds: number;
  startsPerSecond: number;
  /** From the first start until visibility shows all of them completed; undefined if that never came. */
  completedSeconds: number | undefined;
  /** Where the CPU went from the first start until all completed (or the wait gave up). */
  cpu: CpuWindow;
}

const WARM_UP = 100;
let bundle: Promise<string> | undefined;

/** Starts `count` empty workflows, keeping `concurrency` start calls in flight, and times them. */
export async function measureEmptyWorkflowStarts(options: {
  server: TemporalServer;
  count: number;
  concurrency: number;
  logger: Logger;
  namer: Namer;
}): Promise<BaselineResult> {
  const { server, count, concurrency, logger } = options;
  bundle ??= bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL("./workflows/empty.ts", import.meta.url)), logger: quiet }).then((b) => b.code);
  const taskQueue = `bench-empty-${Date.now()}`;
  const workerConnection = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const worker = await Worker.create({ connection: workerConnection, namespace: server.namespace, taskQueue, workflowBundle: { code: await bundle } });
  const running = worker.run();
  try {
    const start = (id: string) => client.workflow.start("emptyWorkflow", { taskQueue, workflowId: id });
    await retryUntilAccepted(() => start(`${taskQueue}-first`));
    await startAll(WARM_UP, concurrency, (i) => start(`${taskQueue}-warm-${i}`));
    await waitUntilCompleted(client, taskQueue, 1 + WARM_UP, 60_000);

    logger.info({ count, concurrency, server: server.kind }, "starting empty workflows");
    const cpuBefore = sampleCpu();
    const t0 = performance.now();
    await startAll(count, concurrency, (i) => start(`${taskQueue}-${i}`));
    const startSeconds = (performance.now() - t0) / 1000;
    const done = await waitUntilCompleted(client, taskQueue, 1 + WARM_UP + count, 300_000);
    const seconds = (performance.now() - t0) / 1000;
    return {
      count,
      concurrency,
      startSeconds,
      startsPerSecond: count / startSeconds,
      completedSeconds: done ? seconds : undefined,
      cpu: cpuBetween(cpuBefore, sampleCpu(), seconds, options.namer, availableParallelism()),
    };
  } finally {
    worker.shutdown();
    await running;
    await workerConnection.close();
    await connection.close();
  }
}

/** Runs `start(i)` for i in [0, count) with at most `concurrency` in flight. */
async function startAll(count: number, concurrency: number, start: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await start(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

/** A namespace registered a moment ago is refused until the frontend's cache refreshes. */
async function retryUntilAccepted(start: () => Promise<unknown>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await start();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

/** Visibility is eventually consistent: count the completed ones rather than the running. */
async function waitUntilCompleted(client: Client, taskQueue: string, total: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { count } = await client.workflow.count(`TaskQueue = "${taskQueue}" AND ExecutionStatus = "Completed"`);
    if (count >= total) return true;
    await sleep(250);
  }
  return false;
}

const quiet = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} };
