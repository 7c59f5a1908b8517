// CPU time per process group over a measured window, from /proc: shows where this
// machine's cores went (Temporal, PostgreSQL, the Tagih worker, the API) while it ran.
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100;

type Sample = Map<number, { comm: string; ppid: number; ticks: number }>;

export interface CpuWindow {
  seconds: number;
  /** CPU seconds per group, largest first; `share` is of all cores over the window. */
  groups: { name: string; cpuSeconds: number; share: number }[];
}

/** Names the processes we know by pid; the rest are grouped by their command name. */
export type Namer = (pid: number, comm: string) => string;

/** Every process's CPU ticks so far, or only `pid`'s. */
export function sampleCpu(pid?: number): Sample {
  const sample: Sample = new Map();
  for (const entry of pid === undefined ? readdirSync("/proc") : [String(pid)]) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      // Fields 14 and 15 of stat (utime, stime); `fields` starts at field 3.
      sample.set(Number(entry), { comm, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // the process ended while we read
    }
  }
  return sample;
}

/**
 * CPU use between two samples, grouped by `name` for this process and its descendants; the
 * rest of the machine (other people's test runs, the kernel) is summed up apart, since it
 * competes for the same cores. Processes started in between count in full.
 */
export function cpuBetween(before: Sample, after: Sample, seconds: number, name: Namer, cores: number): CpuWindow {
  const totals = new Map<string, number>();
  const ours = descendantsOf(process.pid, after);
  for (const [pid, { comm, ticks }] of after) {
    const earlier = before.get(pid);
    const used = earlier && earlier.comm === comm ? ticks - earlier.ticks : ticks;
    if (used <= 0) continue;
    const group = ours.has(pid)
      ? name(pid, comm)
      : /^(kworker|ksoftirq|kswapd|jbd2|kdamond|rcu_)/.test(comm)
        ? "kernel threads"
        : `not this benchmark: ${comm}`;
    totals.set(group, (totals.get(group) ?? 0) + used / TICKS_PER_SECOND);
  }
  const groups = [...totals]
    .map(([group, cpuSeconds]) => ({ name: group, cpuSeconds, share: cpuSeconds / (seconds * cores) }))
    .filter((g) => g.cpuSeconds >= 0.5 && g.share >= 0.005)
    .sort((a, b) => b.cpuSeconds - a.cpuSeconds);
  return { seconds, groups };
}

function descendantsOf(root: number, sample: Sample): Set<number> {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of sample) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const found = new Set<number>([root]);
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop()!) ?? []) {
      if (found.has(child)) continue;
      found.add(child);
      queue.push(child);
    }
  }
  return found;
}

/** "Temporal 48%, PostgreSQL 30%, …" of all cores. */
export function formatCpu(window: CpuWindow): string {
  const busy = window.groups.reduce((sum, g) => sum + g.share, 0);
  return `${window.groups.map((g) => `${g.name} ${pct(g.share)}`).join(", ")} (total ${pct(busy)} of all cores over ${window.seconds.toFixed(1)} s)`;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** CPU ticks (1/100 s) one process has used so far; 0 when it is gone. */
export function readTicks(pid: number): number {
  return sampleCpu(pid).get(pid)?.ticks ?? 0;
}
