// A start-latency probe: while Tagih launches, this process (whose event loop is free) starts
// one workflow a second on a task queue no worker polls and times the StartWorkflowExecution
// call, so the report can tell a slow server from a busy Tagih worker.
import type { Client } from "@temporalio/client";

export interface LatencyStats {
  samples: number;
  p50: number;
  p95: number;
  max: number;
}

export interface StartLatencyProbe {
  /** Stops probing and summarises the latencies (ms) seen since the start. */
  stop(): Promise<LatencyStats | undefined>;
}

export function startLatencyProbe(client: Client, taskQueue: string, intervalMs = 1000): StartLatencyProbe {
  const latencies: number[] = [];
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        // Nobody runs it: it times out after a minute, leaving nothing behind.
        await client.workflow.start("probe", { taskQueue, workflowId: `${taskQueue}-${n++}`, workflowExecutionTimeout: "1 minute" });
        latencies.push(performance.now() - t0);
      } catch {
        // a failed probe says nothing about latency
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (performance.now() - t0))));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return summarise(latencies);
    },
  };
}

/** Times `count` probe starts one after the other (the server otherwise idle). */
export async function idleStartLatency(client: Client, taskQueue: string, count = 10): Promise<LatencyStats | undefined> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await client.workflow.start("probe", { taskQueue, workflowId: `${taskQueue}-idle-${i}`, workflowExecutionTimeout: "1 minute" });
    latencies.push(performance.now() - t0);
  }
  return summarise(latencies);
}

function summarise(values: number[]): LatencyStats | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { samples: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted.at(-1)! };
}
