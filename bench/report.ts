// The result table (stdout and bench/results/launch-<date>.md) and the notes under it.
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, release, totalmem } from "node:os";
import { dirname } from "node:path";
import * as prettier from "prettier";
import { productStart } from "./worker-process.ts";
import type { BaselineResult } from "./baseline.ts";
import { formatCpu } from "./cpu.ts";
import type { LatencyStats } from "./probe.ts";
import type { TagihResult } from "./tagih.ts";
import type { ServerKind } from "./temporal-servers.ts";

export interface ServerRun {
  kind: ServerKind;
  label: string;
  /** Empty-workflow starts before the launch, and the same again after it. */
  baseline?: BaselineResult;
  baselineAfter?: BaselineResult;
  tagih?: TagihResult;
  /** One line: what failed, when the run could not be completed. */
  failure?: string;
}

export interface ReportInput {
  command: string;
  startedAt: Date;
  /** Which Tagih was measured. */
  product: string;
  wallSeconds: number;
  accounts: number;
  concurrency: number;
  /** Where the baseline's concurrency came from. */
  concurrencySource: string;
  runs: ServerRun[];
}

const TARGET_RATIO = 0.7;
const TARGET_100K_SECONDS = 300;
const TARGET_RSS = 400 * 1024 * 1024;
const KIND_NAMES: Record<ServerKind, string> = { dev: "dev server (SQLite)", postgres: "Temporal server on PostgreSQL" };

export function machineLine(): string {
  const model = cpus()[0]?.model.trim() ?? "unknown CPU";
  return `${availableParallelism()} cores (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, Linux ${release()}, Node.js ${process.version}`;
}

export function renderReport(input: ReportInput): string {
  const lines = [
    `# Launch benchmark, ${input.startedAt.toISOString().slice(0, 10)}`,
    "",
    "```sh",
    input.command,
    "```",
    "",
    `- Tagih: ${input.product}`,
    `- Machine: ${machineLine()}`,
    `- N = ${input.accounts.toLocaleString("en")} accounts; empty-workflow baseline with ${input.concurrency} starts in flight (${input.concurrencySource})`,
    `- Wall time of the whole run: ${minutes(input.wallSeconds)}`,
    "",
    table(input),
    "",
    `Targets: enrolment rate ≥ ${TARGET_RATIO * 100}% of the empty-workflow start rate (the mean of the runs before and after the launch); 100,000 accounts enrolled in < 5 min; worker RSS with 10,000 sleeping account workflows < 400 MB.`,
    "",
    ...input.runs.flatMap((run) => notes(run, input.accounts)),
  ];
  return lines.join("\n") + "\n";
}

function table(input: ReportInput): string {
  const header = [
    "server",
    "N",
    "empty-workflow starts/s: before / after the launch (mean)",
    "Tagih enrolments/s (steady 10–90%)",
    "ratio",
    "all enrolled",
    "all first attempts",
    "100k enrolled",
    "worker RSS: idle → N sleeping (after GC)",
  ];
  const rows = input.runs.map((run) => {
    if (!run.baseline && !run.tagih) return [KIND_NAMES[run.kind], "—", "not run (see below)", "—", "—", "—", "—", "—", "—"];
    const t = run.tagih;
    const pair = [run.baseline, run.baselineAfter];
    const baselines = pair.filter((b) => b !== undefined);
    const baselineRate = baselines.length > 0 ? baselines.reduce((sum, b) => sum + b.startsPerSecond, 0) / baselines.length : undefined;
    const ratio = baselineRate && t?.enrolmentsPerSecond ? t.enrolmentsPerSecond / baselineRate : undefined;
    return [
      KIND_NAMES[run.kind],
      (t?.accounts ?? input.accounts).toLocaleString("en"),
      baselineRate ? `${pair.map((b) => b?.startsPerSecond.toFixed(0) ?? "—").join(" / ")} (${baselineRate.toFixed(0)})` : "—",
      t?.enrolmentsPerSecond ? `${t.enrolmentsPerSecond.toFixed(0)} (${t.steadyEnrolmentsPerSecond?.toFixed(0) ?? "—"})` : "—",
      ratio === undefined ? "—" : `${Math.round(ratio * 100)}% ${ratio >= TARGET_RATIO ? "✅" : "❌"}`,
      t?.enrolSeconds !== undefined ? seconds(t.enrolSeconds) : "never",
      t
        ? t.firstAttemptsSeconds !== undefined
          ? seconds(t.firstAttemptsSeconds)
          : `never (${t.attempted.toLocaleString("en")} of ${t.accounts.toLocaleString("en")})`
        : "—",
      t ? hundredThousand(t) : "—",
      t
        ? `${mb(t.worker.idle.rss)} → ${mb(t.worker.sleeping.rss)} (${mb(t.worker.afterGc.rss)})${t.accounts === 10_000 ? (t.worker.sleeping.rss < TARGET_RSS ? " ✅" : " ❌") : ""}`
        : "—",
    ];
  });
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n");
}

/** Measured when N ≥ 100,000; otherwise the time to the first enrolment plus 100,000 at the steady rate. */
function hundredThousand(t: TagihResult): string {
  if (t.accounts >= 100_000) return t.enrolSeconds === undefined ? "never" : `${minutes(t.enrolSeconds)} ${t.enrolSeconds < TARGET_100K_SECONDS ? "✅" : "❌"}`;
  const rate = t.steadyEnrolmentsPerSecond ?? t.enrolmentsPerSecond;
  if (!rate) return "—";
  const estimate = (t.firstEnrolmentSeconds ?? 0) + 100_000 / rate;
  return `≈ ${minutes(estimate)} (extrapolated) ${estimate < TARGET_100K_SECONDS ? "✅" : "❌"}`;
}

function notes(run: ServerRun, accounts: number): string[] {
  const out = [`## ${KIND_NAMES[run.kind]}`, "", `- Server: ${run.label}`];
  if (run.failure) out.push(`- **Failed:** ${run.failure}`);
  for (const [when, b] of [
    ["before", run.baseline],
    ["after", run.baselineAfter],
  ] as const) {
    if (!b) continue;
    out.push(
      `- Baseline ${when} the launch: ${b.count.toLocaleString("en")} empty workflows started in ${seconds(b.startSeconds)} (${b.startsPerSecond.toFixed(0)}/s); ` +
        (b.completedSeconds === undefined ? "not all completed within 5 min." : `all completed ${seconds(b.completedSeconds)} after the first start.`),
      `- CPU during the baseline ${when} the launch: ${formatCpu(b.cpu)}`,
    );
  }
  const t = run.tagih;
  if (t) {
    out.push(
      `- Accounts: ${t.accounts.toLocaleString("en")} imported over POST /v1/accounts (1000 per request, 2 in flight) in ${seconds(t.importSeconds)} (not part of the measurement); jurisdiction US, time zone ${t.zone.zone} (local ${t.zone.localTime}${t.zone.inside ? `, ${t.zone.minutesLeft} min before 21:00` : ", OUTSIDE 08:00–21:00"}); consent field ${t.consentAccepted ? "accepted" : "not accepted by the accounts API, sent without it"}; before launch ${t.gate}.`,
      `- Launch → first enrolment row ${t.firstEnrolmentSeconds === undefined ? "never" : seconds(t.firstEnrolmentSeconds)}; → all ${t.accounts.toLocaleString("en")} running ${t.enrolSeconds === undefined ? "never" : seconds(t.enrolSeconds)}; → all first attempts ${t.firstAttemptsSeconds === undefined ? "never" : seconds(t.firstAttemptsSeconds)}.`,
    );
    if (t.pages) {
      out.push(
        `- enrolPage: ${t.pages.pages} pages of up to ${t.pages.size}; one page every ${seconds(t.pages.medianSeconds)} (median; p95 ${seconds(t.pages.p95Seconds)}), i.e. ≈ ${(t.pages.size / t.pages.medianSeconds).toFixed(0)} workflow starts/s inside a page cycle.`,
      );
    }
    if (t.attemptLag)
      out.push(`- Enrolment → SMS handed to the vendor: p50 ${seconds(t.attemptLag.p50)}, p95 ${seconds(t.attemptLag.p95)}, max ${seconds(t.attemptLag.max)}.`);
    if (t.attemptsProblem) out.push(`- **First attempts incomplete:** ${t.attemptsProblem}`);
    if (t.cpuEnrolment) out.push(`- CPU from launch until all enrolled: ${formatCpu(t.cpuEnrolment)}`);
    if (t.cpuAttemptsOnly) out.push(`- CPU from all enrolled until all first attempts: ${formatCpu(t.cpuAttemptsOnly)}`);
    const { idle, duringEnrolment } = t.startLatency;
    out.push(
      `- Start latency of one extra workflow a second from the benchmark's own (idle) client: ${latency(idle)} before the launch, ${latency(duringEnrolment)} during the enrolment. ` +
        `Event-loop delay of the worker's main thread (where enrolPage's starts, Prisma and every activity run) from launch to the last first attempt: p50 ${t.workerEventLoop.p50.toFixed(0)} ms, p99 ${t.workerEventLoop.p99.toFixed(0)} ms, max ${t.workerEventLoop.max.toFixed(0)} ms.`,
    );
    const w = t.worker;
    out.push(
      `- Worker (TAGIH_ROLE=worker child process, started by runtime/stack.ts as \`npm start\` does, with ${startSettings()}, its workflow bundle built by a child process): RSS ${mb(w.idle.rss)} idle before launch; ${mb(w.sleeping.rss)} with ${accounts.toLocaleString("en")} account workflows sleeping in \`condition\` (${w.idleReached ? "worker idle" : "worker still busy after 3 min"}); ${mb(w.afterGc.rss)} after a forced GC (main thread's V8 heap: ${mb(w.afterGc.heapUsed)} used of ${mb(w.afterGc.heapTotal)}); peak ${mb(w.sleeping.peakRss)}. ` +
        `Sticky cache: ${w.sleeping.maxCachedWorkflows.toLocaleString("en")} workflows (set by ${w.sleeping.cacheSetBy}; heap limit ${mb(w.sleeping.heapSizeLimit)}), so at most that many of the sleeping workflows stay in memory. ` +
        `The worker sent its SMS with Twilio credentials to a Twilio-compatible API in the benchmark's process (TAGIH_TWILIO_API_URL: the vendor sandbox, which received ${t.sandbox.messages.toLocaleString("en")} messages and made ${t.sandbox.callbacks.toLocaleString("en")} callback attempts), so, as in production, the worker holds no copy of them.`,
    );
  }
  out.push("");
  return out;
}

const latency = (l: LatencyStats | undefined) => (l ? `p50 ${l.p50.toFixed(0)} ms / p95 ${l.p95.toFixed(0)} ms (${l.samples} starts)` : "not measured");
const seconds = (s: number) => (s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`);
const minutes = (s: number) => (s < 120 ? seconds(s) : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

/**
 * Writes a benchmark's report to `file`, formatted as the repository's Prettier settings
 * format Markdown (aligned tables), and returns the text written.
 * @example const text = await writeReport(join(repoRoot, "bench", "results", "launch.md"), report);
 */
export async function writeReport(file: string, report: string): Promise<string> {
  await mkdir(dirname(file), { recursive: true });
  const formatted = await prettier.format(report, { ...(await prettier.resolveConfig(file)), filepath: file });
  await writeFile(file, formatted);
  return formatted;
}

/** What `npm start` sets for memory, e.g. "MALLOC_ARENA_MAX=2 --max-old-space-size=512". */
function startSettings(): string {
  const { env, flags } = productStart();
  return [...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...flags].join(" ") || "no memory settings";
}
