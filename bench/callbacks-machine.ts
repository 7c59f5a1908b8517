// How busy the whole (shared) machine was during a phase: /proc/stat for where all cores'
// time went, /proc/pressure/cpu for how often runnable tasks had to wait for a core.
import { readFileSync } from "node:fs";

export interface MachineSample {
  /** user, nice, system, idle, iowait, irq, softirq, steal (ticks, all cores). */
  ticks: number[];
  /** Microseconds in which at least one task waited for a CPU (PSI "some"); undefined without PSI. */
  cpuPressureUs: number | undefined;
  at: number;
}

export interface MachineWindow {
  /** Shares of all cores' time. */
  busy: number;
  idle: number;
  steal: number;
  /** Share of wall time in which some runnable task waited for a CPU. */
  cpuPressure: number | undefined;
}

export function sampleMachine(): MachineSample {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  let cpuPressureUs: number | undefined;
  try {
    const some = /^some .*total=(\d+)/m.exec(readFileSync("/proc/pressure/cpu", "utf8"));
    cpuPressureUs = some ? Number(some[1]) : undefined;
  } catch {
    // no PSI on this kernel
  }
  return { ticks: cpu, cpuPressureUs, at: performance.now() };
}

export function machineBetween(before: MachineSample, after: MachineSample): MachineWindow {
  const d = after.ticks.map((t, i) => t - before.ticks[i]!);
  const total = d.reduce((a, b) => a + b, 0) || 1;
  const idle = (d[3]! + d[4]!) / total;
  const wallUs = (after.at - before.at) * 1000;
  return {
    busy: 1 - idle,
    idle,
    steal: d[7]! / total,
    cpuPressure: before.cpuPressureUs !== undefined && after.cpuPressureUs !== undefined ? (after.cpuPressureUs - before.cpuPressureUs) / wallUs : undefined,
  };
}
