// The callback benchmark's report (stdout and bench/results/callbacks-<date>.md).
import { availableParallelism } from "node:os";
import type { ActivitySummary, CheckResult, PgCounters } from "./callbacks-db.ts";
import type { Distribution, PhaseResult } from "./callbacks-load.ts";
import type { MachineWindow } from "./callbacks-machine.ts";
import type { ProfileSummary } from "./callbacks-profile.ts";
import { formatCpu, type CpuWindow } from "./cpu.ts";
import { machineLine } from "./report.ts";

export const TARGET_RATE = 2000;
/** The generator offers at most `--rate`: keeping up within 1% of an offered 2,000/s counts as 2,000/s. */
const RATE_TOLERANCE = 0.99;
const TARGET_P99_MS = 50;

export interface GcPause {
  /** Start, in ms after the phase began. */
  atMs: number;
  durationMs: number;
  /** A full mark-compact (the others are scavenges and incremental steps). */
  major: boolean;
}

export interface MeasuredPhase {
  result: PhaseResult;
  cpu: CpuWindow;
  machine: MachineWindow;
  /** The API's event-loop delay (ms) during the phase. */
  eventLoop: { p50: number; p99: number; max: number };
  /** The API process's garbage-collection pauses during the phase. */
  gc: GcPause[];
  pg: PgCounters;
  pgActivity: ActivitySummary;
  loadAverage: { start: string; end: string };
}

export interface CallbackReportInput {
  command: string;
  startedAt: Date;
  product: string;
  uptimeBefore: string;
  wallSeconds: number;
  stack: string;
  traffic: {
    attempts: number;
    fired: number;
    attemptsNote: string | undefined;
    duplicates: number;
    outOfOrder: number;
    warmupRequests: number;
    connections: number;
  };
  baseline: MeasuredPhase;
  callbacks: MeasuredPhase;
  check: CheckResult;
  profile: ProfileSummary | undefined;
  files: string[];
}

export function renderCallbackReport(input: CallbackReportInput): string {
  const { baseline, callbacks, check, traffic } = input;
  const c = callbacks.result;
  const lines = [
    `# Twilio status callback benchmark, ${input.startedAt.toISOString().slice(0, 10)}`,
    "",
    "```sh",
    input.command,
    "```",
    "",
    `- Tagih: ${input.product}`,
    `- Machine: ${machineLine()}`,
    `- Shared machine: \`uptime\` before the run: \`${input.uptimeBefore}\`; load average (1, 5, 15 min) at the start → end of the baseline ${baseline.loadAverage.start} → ${baseline.loadAverage.end}, of the callbacks ${callbacks.loadAverage.start} → ${callbacks.loadAverage.end}`,
    `- Stack: ${input.stack}`,
    `- Traffic: ${traffic.attempts.toLocaleString("en")} contact attempts seeded in bulk SQL (accounts, one campaign, enrolments, \`queued\` SMS attempts with Twilio message SIDs)${traffic.attemptsNote ? ` (${traffic.attemptsNote})` : ""}; ${traffic.fired.toLocaleString("en")} of them are sent \`sent\` then \`delivered\`; ${traffic.duplicates.toLocaleString("en")} duplicate deliveries (10%, a third of them concurrent with their original), ${traffic.outOfOrder.toLocaleString("en")} attempts out of order (\`delivered\` before \`sent\`); ${c.requests.toLocaleString("en")} signed requests offered open-loop at ${c.targetRate.toLocaleString("en")}/s (${((c.requests - 1) / c.targetRate).toFixed(1)} s) over up to ${traffic.connections} keep-alive connections from a separate Node process. The baseline is the same number of \`GET /healthz\` at the same rate, in the same run, just before. Warm-ups (${traffic.warmupRequests.toLocaleString("en")} requests of each kind at ≤ 500/s) are not counted.`,
    `- Wall time of the whole run: ${seconds(input.wallSeconds)}`,
    "",
    table([
      ["GET /healthz (no-op baseline)", baseline.result, false],
      ["POST /v1/webhooks/twilio/status", c, true],
    ]),
    "",
    `Targets: ≥ ${TARGET_RATE.toLocaleString("en")} callbacks/s sustained (2xx responses per second between the first and the last one, within 1% of an offered ${TARGET_RATE.toLocaleString("en")}/s), p99 < ${TARGET_P99_MS} ms, zero lost, zero applied twice.`,
    "",
    checkTable(check),
    "",
    "## Details",
    "",
    `- Latency is counted from the moment each request was due (open loop), so it includes any wait in the generator for a free connection. Split: send lag (due → connection) p50 ${ms(c.sendLag.p50)}, p99 ${ms(c.sendLag.p99)}, max ${ms(c.sendLag.max)}; service time (connection → response) p50 ${ms(c.service.p50)}, p99 ${ms(c.service.p99)}, max ${ms(c.service.max)}. Baseline send lag p99 ${ms(baseline.result.sendLag.p99)}, service p99 ${ms(baseline.result.service.p99)}.`,
    `- Answers: baseline ${outcomes(baseline.result)}; callbacks ${outcomes(c)}.`,
    `- Every \`delivered\` signals its enrolment's workflow once (a duplicate, even one arriving while the first is queued, owes no signal). The seeded workflow ids name no workflow, so Temporal answers NotFound and the webhook answers 204 (its behaviour for a finished journey); signalling a live workflow also writes its history and would cost more.`,
    `- PostgreSQL during the callbacks: ${pgLine(callbacks.pg, c.requests)}. During the baseline (which touches no table): ${baseline.pg.commits.toLocaleString("en")} commits.`,
    `- PostgreSQL backends during the callbacks (pg_stat_activity every 250 ms): ${activityLine(callbacks.pgActivity)}.`,
    `- CPU during the baseline: ${formatCpu(baseline.cpu)}. ${machineLineOf(baseline.machine)}`,
    `- CPU during the callbacks: ${formatCpu(callbacks.cpu)}. ${machineLineOf(callbacks.machine)}`,
    `- CPU time per request (less dependent on what else ran than the shares above, but inflated when the machine is oversubscribed): baseline ${perRequestLine(baseline)}; callbacks ${perRequestLine(callbacks)}.`,
    `- Event-loop delay of the API's process: baseline p50 ${ms(baseline.eventLoop.p50)}, p99 ${ms(baseline.eventLoop.p99)}, max ${ms(baseline.eventLoop.max)}; callbacks p50 ${ms(callbacks.eventLoop.p50)}, p99 ${ms(callbacks.eventLoop.p99)}, max ${ms(callbacks.eventLoop.max)}.`,
    `- Garbage collection in the API's process during the callbacks: ${gcLine(callbacks.gc, callbacks.result.seconds * 1000)}.`,
    `- Latency distribution (ms): baseline ${dist(baseline.result.latency)}; callbacks ${dist(c.latency)}.`,
    `- Callbacks' p99 by the second they were due in (ms): ${c.p99BySecond.map((v) => v.toFixed(0)).join(", ")}. ` +
      (c.afterRamp
        ? `The phase starts from idle at the full rate; the requests due after its first ${c.afterRamp.seconds} s: p50 ${ms(c.afterRamp.latency.p50)}, p99 ${ms(c.afterRamp.latency.p99)}, max ${ms(c.afterRamp.latency.max)}.`
        : ""),
  ];
  if (input.profile) lines.push(...profileLines(input.profile));
  lines.push(`- Files (git-ignored): ${input.files.map((f) => `\`${f}\``).join(", ")}`);
  return lines.join("\n") + "\n";
}

function table(rows: [string, PhaseResult, boolean][]): string {
  const header = ["route", "requests", "offered/s", "achieved/s", "per second while firing (min / median)", "p50", "p95", "p99", "max", "non-2xx", "no answer"];
  const cells = rows.map(([route, r, judged]) => [
    route,
    r.requests.toLocaleString("en"),
    r.targetRate.toLocaleString("en"),
    `${Math.round(r.achievedRate).toLocaleString("en")}${judged ? (r.achievedRate >= TARGET_RATE * RATE_TOLERANCE ? " ✅" : " ❌") : ""}`,
    `${r.perSecond.min.toLocaleString("en")} / ${r.perSecond.median.toLocaleString("en")}`,
    ms(r.latency.p50),
    ms(r.latency.p95),
    `${ms(r.latency.p99)}${judged ? (r.latency.p99 < TARGET_P99_MS ? " ✅" : " ❌") : ""}`,
    ms(r.latency.max),
    r.non2xx.toLocaleString("en"),
    r.errors.toLocaleString("en"),
  ]);
  return markdownTable(header, cells);
}

function checkTable(check: CheckResult): string {
  const mark = (ok: boolean) => (ok ? "✅" : "❌");
  const examples = (ids: string[]) => (ids.length ? ` (e.g. ${ids.slice(0, 3).join(", ")})` : "");
  const delivered = check.finalStatuses.delivered ?? 0;
  const others = Object.entries(check.finalStatuses)
    .filter(([s]) => s !== "delivered")
    .map(([s, n]) => `${n.toLocaleString("en")} ${s}`)
    .join(", ");
  const rows = [
    [
      "zero lost",
      `${check.lost.length.toLocaleString("en")} of ${check.acknowledged.toLocaleString("en")} acknowledged (2xx) events have no row in \`callbacks\`${examples(check.lost)}; ${check.unacknowledgedMissing.toLocaleString("en")} never acknowledged and not stored (Twilio would redeliver)`,
      mark(check.lost.length === 0),
    ],
    [
      "zero applied twice",
      `${check.rows.toLocaleString("en")} rows for ${check.events.toLocaleString("en")} distinct (MessageSid, MessageStatus) events; ${check.duplicateRows.length.toLocaleString("en")} stored twice${examples(check.duplicateRows)}; ${check.unapplied.length.toLocaleString("en")} without \`applied_at\`${examples(check.unapplied)}; ${check.unexpected.length.toLocaleString("en")} unexpected`,
      mark(check.duplicateRows.length === 0 && check.unapplied.length === 0 && check.unexpected.length === 0),
    ],
    [
      "every attempt ends `delivered`",
      `${delivered.toLocaleString("en")} of ${check.attempts.toLocaleString("en")} attempts \`delivered\`${others ? `, ${others}` : ""}; ${check.notDeliveredDespiteAck.length.toLocaleString("en")} not \`delivered\` although their \`delivered\` was acknowledged (moved backwards by a late \`sent\`)${examples(check.notDeliveredDespiteAck)}; ${check.deliveredNeverAcknowledged.toLocaleString("en")} whose \`delivered\` never got a 2xx`,
      mark(delivered === check.attempts && check.notDeliveredDespiteAck.length === 0),
    ],
  ];
  return markdownTable(
    ["database check (all batches, warm-up included)", "result", ""],
    rows.map((r) => r.map(String)),
  );
}

function profileLines(p: ProfileSummary): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    `- CPU profile of the API's process during the callbacks (\`--profile\`; sampling slows it a little): ${seconds(p.seconds)} sampled, JavaScript thread busy ${pct(p.busyShare)} of it. Self time by owner (share of busy time): ${p.byOwner.map((o) => `${o.owner} ${pct(o.share)}`).join(", ")}.`,
    `- Functions with the most self time: ${p.topFunctions.map((f) => `\`${f.name}\` ${pct(f.share)}`).join(", ")}.`,
  ];
}

function pgLine(pg: PgCounters, requests: number): string {
  const per = (n: number) => (n / requests).toFixed(2);
  return `${pg.commits.toLocaleString("en")} commits (${per(pg.commits)} per request), ${pg.rollbacks.toLocaleString("en")} rollbacks, ${pg.inserted.toLocaleString("en")} rows inserted, ${pg.updated.toLocaleString("en")} updated, ${pg.walSyncs.toLocaleString("en")} WAL syncs (${per(pg.walSyncs)} per request), ${(pg.walBytes / 2 ** 20).toFixed(1)} MiB of WAL (${Math.round(pg.walBytes / requests).toLocaleString("en")} bytes per request)`;
}

function machineLineOf(m: MachineWindow): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return `Whole machine: ${pct(m.busy)} busy, ${pct(m.steal)} stolen by the hypervisor${m.cpuPressure === undefined ? "" : `, some task waiting for a CPU ${pct(m.cpuPressure)} of the time (PSI)`}`;
}

/** CPU milliseconds per request of each of our processes, and the rate they would allow with every core of this machine to themselves. */
function perRequestLine(phase: MeasuredPhase): string {
  const ours = phase.cpu.groups.filter((g) => !g.name.startsWith("not this benchmark") && g.name !== "kernel threads");
  const perRequest = ours.map((g) => ({ name: g.name, ms: (g.cpuSeconds * 1000) / phase.result.requests }));
  const total = perRequest.reduce((sum, g) => sum + g.ms, 0);
  const cores = availableParallelism();
  const ceiling = total ? (cores * 1000) / total : 0;
  return `${perRequest.map((g) => `${g.name} ${g.ms.toFixed(2)} ms`).join(", ")}; ${total.toFixed(2)} ms in all, i.e. at most ≈ ${Math.round(ceiling).toLocaleString("en")} requests/s with all ${cores} cores to ourselves`;
}

function activityLine(a: ActivitySummary): string {
  const waits = a.waits
    .slice(0, 6)
    .map((w) => `${w.wait} ${(w.share * 100).toFixed(0)}%`)
    .join(", ");
  return `Tagih's pool had ${a.meanConnections.toFixed(1)} connections open on average, ${a.meanActive.toFixed(1)} of them running a statement (max ${a.maxActive}); running statements were on ${waits || "nothing"} (CPU: no wait event, i.e. running or runnable)`;
}

function outcomes(r: PhaseResult): string {
  return Object.entries(r.outcomes)
    .map(([k, n]) => `${k}: ${n.toLocaleString("en")}`)
    .join(", ");
}

function markdownTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => width(r[i]!))));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c + " ".repeat(widths[i]! - width(c))).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n");
}

/** Prettier counts emoji as two columns wide. */
const width = (s: string) => [...s].reduce((n, ch) => n + (/\p{Extended_Pictographic}/u.test(ch) ? 2 : 1), 0);

const dist = (d: Distribution) =>
  `mean ${d.mean.toFixed(1)}, p50 ${d.p50.toFixed(1)}, p95 ${d.p95.toFixed(1)}, p99 ${d.p99.toFixed(1)}, p99.9 ${d.p999.toFixed(1)}, max ${d.max.toFixed(1)}`;
const ms = (x: number) => (x < 10 ? `${x.toFixed(1)} ms` : x < 10_000 ? `${Math.round(x).toLocaleString("en")} ms` : `${(x / 1000).toFixed(1)} s`);
const seconds = (s: number) => (s < 120 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

/** How often and how long the API paused to collect garbage, and its longest pauses with when they began. */
function gcLine(pauses: GcPause[], phaseMs: number): string {
  const total = pauses.reduce((sum, p) => sum + p.durationMs, 0);
  const major = pauses.filter((p) => p.major);
  const longest = [...pauses].sort((a, b) => b.durationMs - a.durationMs).slice(0, 5);
  const at = (p: GcPause) => `${ms(p.durationMs)} at ${(p.atMs / 1000).toFixed(2)} s${p.major ? " (major)" : ""}`;
  return (
    `${pauses.length} pauses, ${ms(total)} in all (${((100 * total) / phaseMs).toFixed(1)} % of the phase), ${major.length} of them major (${ms(major.reduce((sum, p) => sum + p.durationMs, 0))}); ` +
    `longest: ${longest.map(at).join(", ") || "none"}`
  );
}
