// `npm run bench:launch [-- --accounts N] [--servers dev,postgres] [--baseline N] [--concurrency C] [--shards 16]`
//
// On each Temporal server (the CLI dev server on SQLite, and the Temporal server on
// PostgreSQL): the rate of starting N empty workflows, then Tagih enrolling N accounts into
// a one-step SMS campaign through its API and worker, the time until every account had its
// first attempt, and the worker's memory with N account workflows asleep. Prints a table
// and writes it to bench/results/launch-<date>.md. Not part of `npm test`.
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DefaultLogger, Runtime } from "@temporalio/worker";
import { repoRoot } from "../runtime/config.ts";
import type { Logger } from "../runtime/logger.ts";
import { measureEmptyWorkflowStarts } from "./baseline.ts";
import type { Namer } from "./cpu.ts";
import { createBenchLogger } from "./log.ts";
import { startBenchPostgres, type BenchPostgres } from "./postgres.ts";
import { cleanupAll, installSignalHandlers, isStopping, run as runCommand, runBench } from "./processes.ts";
import { renderReport, writeReport, type ServerRun } from "./report.ts";
import { measureTagihLaunch } from "./tagih.ts";
import { ensureProductionServer, startDevServer, startPostgresServer, type ServerKind, type TemporalServer } from "./temporal-servers.ts";

interface Options {
  accounts: number;
  baseline: number;
  concurrency: number;
  concurrencySource: string;
  shards: number;
  servers: ServerKind[];
}

function readOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      accounts: { type: "string", default: "10000" },
      baseline: { type: "string" },
      concurrency: { type: "string" },
      shards: { type: "string", default: "16" },
      servers: { type: "string", default: "dev,postgres" },
    },
  });
  const count = (name: string, raw: string | undefined) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer (got ${raw})`);
    return n;
  };
  const servers = values.servers.split(",").map((s) => s.trim());
  for (const s of servers) if (s !== "dev" && s !== "postgres") throw new Error(`--servers takes dev and/or postgres (got ${s})`);
  const accounts = count("accounts", values.accounts);
  return {
    accounts,
    baseline: values.baseline === undefined ? accounts : count("baseline", values.baseline),
    ...(values.concurrency === undefined
      ? productConcurrency()
      : { concurrency: count("concurrency", values.concurrency), concurrencySource: "--concurrency" }),
    shards: count("shards", values.shards),
    servers: servers as ServerKind[],
  };
}

/** The baseline keeps as many starts in flight as enrolPage does: START_CONCURRENCY in activities/enrolment.ts. */
function productConcurrency(): { concurrency: number; concurrencySource: string } {
  const source = readFileSync(join(repoRoot, "activities", "enrolment.ts"), "utf8");
  const found = /const START_CONCURRENCY = (\d+)/.exec(source)?.[1];
  return found
    ? { concurrency: Number(found), concurrencySource: "START_CONCURRENCY in activities/enrolment.ts, as enrolPage" }
    : { concurrency: 32, concurrencySource: "START_CONCURRENCY not found in activities/enrolment.ts: 32" };
}

/** Names processes in the CPU breakdowns. */
function namer(workerPid?: number): Namer {
  return (pid, comm) => {
    if (pid === process.pid) return "bench + Tagih API (node)";
    if (pid === workerPid) return "Tagih worker (node)";
    if (comm === "temporal") return "Temporal dev server";
    if (comm === "server") return "Temporal server";
    if (comm === "postgres") return "PostgreSQL";
    return comm;
  };
}

async function startServer(kind: ServerKind, context: { dir: string; postgres: BenchPostgres; shards: number; logger: Logger }): Promise<TemporalServer> {
  if (kind === "dev") return startDevServer(context.dir, context.logger);
  const build = await ensureProductionServer(context.logger);
  return startPostgresServer({ build, postgres: context.postgres, dir: context.dir, historyShards: context.shards, logger: context.logger });
}

async function runOnServer(kind: ServerKind, options: Options, context: { dir: string; postgres: BenchPostgres; logger: Logger }): Promise<ServerRun> {
  const { logger } = context;
  const run: ServerRun = { kind, label: kind === "dev" ? "Temporal CLI dev server" : "Temporal server on PostgreSQL" };
  // The baseline runs before and after the launch: the host's speed drifts by a fifth within
  // minutes, so the launch is compared with the mean of the two runs that bracket it.
  const measureBaseline = async (server: TemporalServer, when: "before" | "after") => {
    const baseline = await measureEmptyWorkflowStarts({ server, count: options.baseline, concurrency: options.concurrency, logger, namer: namer() });
    logger.info({ perSecond: baseline.startsPerSecond.toFixed(0), when }, "baseline measured");
    return baseline;
  };
  let server: TemporalServer | undefined;
  try {
    logger.info({ server: kind }, "starting Temporal");
    server = await startServer(kind, { ...context, shards: options.shards });
    run.label = server.label;
    run.baseline = await measureBaseline(server, "before");
    const databaseUrl = await context.postgres.freshDatabase(`bench_tagih_${kind}`);
    run.tagih = await measureTagihLaunch({ server, databaseUrl, accounts: options.accounts, dir: context.dir, logger, namer });
    run.baselineAfter = await measureBaseline(server, "after");
  } catch (error) {
    if (isStopping()) throw error;
    run.failure = oneLine(error);
    logger.error({ server: kind, failure: run.failure }, "this server's run failed");
  } finally {
    await server?.stop();
  }
  return run;
}

/** BENCH_PRODUCT_VERSION, or the commit checked out and whether product files differ from it. */
async function productVersion(): Promise<string> {
  if (process.env.BENCH_PRODUCT_VERSION) return process.env.BENCH_PRODUCT_VERSION;
  const head = (await runCommand("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot }).catch(() => "")).trim();
  if (!head) return "unknown (no git checkout)";
  const clean = await runCommand("git", ["diff", "--quiet", "HEAD", "--", ".", ":!bench"], { cwd: repoRoot }).then(
    () => true,
    () => false,
  );
  return clean ? `commit ${head}` : `commit ${head} + uncommitted changes`;
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, " ").trim().slice(0, 600);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = readOptions(argv);
  installSignalHandlers();
  // The baseline's worker runs here: keep the SDK's state-change lines out of the output.
  Runtime.install({ logger: new DefaultLogger("WARN") });
  const logger = createBenchLogger();
  const startedAt = new Date();
  const dir = join(repoRoot, ".data", "bench");
  await mkdir(dir, { recursive: true });
  try {
    const postgres = await startBenchPostgres(dir, logger);
    const product = await productVersion();
    const runs: ServerRun[] = [];
    for (const kind of options.servers) runs.push(await runOnServer(kind, options, { dir, postgres, logger }));
    const report = renderReport({
      command: `npm run bench:launch${argv.length ? ` -- ${argv.join(" ")}` : ""}`,
      startedAt,
      product,
      wallSeconds: (Date.now() - startedAt.getTime()) / 1000,
      accounts: options.accounts,
      concurrency: options.concurrency,
      concurrencySource: options.concurrencySource,
      runs,
    });
    const file = join(
      repoRoot,
      "bench",
      "results",
      `launch-${startedAt.toISOString().slice(0, 10)}${options.accounts === 10_000 ? "" : `-n${options.accounts}`}.md`,
    );
    const formatted = await writeReport(file, report);
    process.stdout.write(`\n${formatted}\nWritten to ${file}\n`);
  } finally {
    await cleanupAll();
  }
}

runBench(main);
