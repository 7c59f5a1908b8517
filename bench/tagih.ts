// Tagih's launch through its real path: the API (in this process) and the worker (a child
// process) from runtime/stack.ts, accounts imported over the API, a one-step SMS campaign
// created and launched over the API, progress read from PostgreSQL.
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { loadConfig } from "../runtime/config.ts";
import { postgresConfig } from "../runtime/database-url.ts";
import type { Logger } from "../runtime/logger.ts";
import { startStack } from "../runtime/stack.ts";
import { startVendorSandbox, type VendorSandbox } from "../sandbox/index.ts";
import { freePort } from "../test/ports.ts";
import { askGate, chooseUsTimeZone, importAccounts, type ZoneChoice } from "./accounts.ts";
import { authorization, benchAdminKey } from "./api-key.ts";
import { cpuBetween, sampleCpu, type CpuWindow, type Namer } from "./cpu.ts";
import { idleStartLatency, startLatencyProbe, type LatencyStats } from "./probe.ts";
import { onCleanup, sleep } from "./processes.ts";
import type { TemporalServer } from "./temporal-servers.ts";
import { startWorkerProcess, type WorkerProcess } from "./worker-process.ts";
import type { WorkerMemory } from "./worker.ts";

export interface TagihResult {
  accounts: number;
  importSeconds: number;
  consentAccepted: boolean;
  zone: ZoneChoice;
  /** What the product's gate said about such an SMS before the launch. */
  gate: string;
  /** From the launch request until the first enrolment row exists. */
  firstEnrolmentSeconds: number | undefined;
  /** From the launch request until all N enrolments are running; undefined if that never came. */
  enrolSeconds: number | undefined;
  enrolmentsPerSecond: number | undefined;
  /** Rate between 10% and 90% enrolled, without start-up and tail. */
  steadyEnrolmentsPerSecond: number | undefined;
  /** From the launch request until every account has an attempt with a vendor id. */
  firstAttemptsSeconds: number | undefined;
  attempted: number;
  /** Why attempts stopped short, with what a waiting workflow says it waits for. */
  attemptsProblem: string | undefined;
  pages: PageStats | undefined;
  /** Seconds from an account's enrolment to its SMS being handed to the vendor. */
  attemptLag: { p50: number; p95: number; max: number } | undefined;
  cpuEnrolment: CpuWindow | undefined;
  /** CPU from all enrolled until all first attempts: the account workflows' own work alone. */
  cpuAttemptsOnly: CpuWindow | undefined;
  /** StartWorkflowExecution latency (ms) from an idle client, before the launch and during the enrolment. */
  startLatency: { idle: LatencyStats | undefined; duringEnrolment: LatencyStats | undefined };
  /** The worker's event-loop delay from the launch until all first attempts (or giving up). */
  workerEventLoop: WorkerMemory["eventLoopDelay"];
  worker: { idle: WorkerMemory; sleeping: WorkerMemory; afterGc: WorkerMemory; idleReached: boolean };
  /** What the vendor sandbox (in the benchmark's process) had received and sent back when the workflows slept. */
  sandbox: { messages: number; callbacks: number };
}

export interface PageStats {
  pages: number;
  size: number;
  medianSeconds: number;
  p95Seconds: number;
}

const POLL_MS = 1000;
const STALL_MS = 120_000;

export async function measureTagihLaunch(options: {
  server: TemporalServer;
  databaseUrl: string;
  accounts: number;
  dir: string;
  logger: Logger;
  /** Names processes for the CPU breakdown; gets the worker's pid. */
  namer: (workerPid: number) => Namer;
}): Promise<TagihResult> {
  const { server, accounts, dir, logger } = options;
  const tagih = await startTagih(server, options.databaseUrl, dir, logger);
  const { stack, worker, pool } = tagih;
  try {
    await worker.idle(60_000);
    const idleMemory = await worker.memory();

    const zone = chooseUsTimeZone();
    if (!zone.inside) logger.warn({ zone }, "no US time zone is inside 08:00–21:00 now: a compliance gate will hold every SMS");
    const gate = await askGate(stack.apiUrl, zone.zone);
    const product = `bench-${server.kind}-${Date.now()}`;
    logger.info({ accounts, zone: zone.zone, localTime: zone.localTime }, "importing accounts");
    const imported = await importAccounts({ apiUrl: stack.apiUrl, count: accounts, product, zone: zone.zone });
    logger.info({ seconds: imported.seconds.toFixed(1) }, "accounts imported");

    const campaignId = await createCampaign(stack.apiUrl, product);
    const launch = await launchAndFollow(tagih, campaignId, accounts, options.namer(worker.pid), logger);
    const { progress } = launch;
    const attemptsProblem =
      progress.attempted < accounts ? await explainMissingAttempts(pool, stack.temporal, campaignId, progress.attempted, accounts, zone) : undefined;

    logger.info("waiting for the worker to go idle");
    const memory = await sleepingWorkerMemory(tagih);
    return {
      accounts,
      importSeconds: imported.seconds,
      consentAccepted: imported.consentAccepted,
      zone,
      gate,
      firstEnrolmentSeconds: progress.firstEnrolmentAt,
      enrolSeconds: progress.enrolledAt,
      enrolmentsPerSecond: progress.enrolledAt ? accounts / progress.enrolledAt : undefined,
      steadyEnrolmentsPerSecond: steadyRate(progress.timeline, accounts),
      firstAttemptsSeconds: progress.attemptedAt,
      attempted: progress.attempted,
      attemptsProblem,
      pages: await pageStats(pool, campaignId),
      attemptLag: await attemptLag(pool, campaignId),
      cpuEnrolment: launch.cpuEnrolment,
      cpuAttemptsOnly: launch.cpuAttemptsOnly,
      startLatency: launch.startLatency,
      workerEventLoop: launch.workerEventLoop,
      worker: { idle: idleMemory, ...memory },
      sandbox: { messages: tagih.sandbox.messages().length, callbacks: tagih.sandbox.callbacks().length },
    };
  } finally {
    await tagih.stop();
  }
}

interface RunningTagih {
  stack: Awaited<ReturnType<typeof startStack>>;
  worker: WorkerProcess;
  /** The Twilio the worker sends to: a vendor sandbox in this process. */
  sandbox: VendorSandbox;
  /** For reading progress straight from Tagih's tables. */
  pool: pg.Pool;
  taskQueue: string;
  /** The configuration variables the API and the worker share. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Tagih's API in this process and its worker alone in a child process, on `server`. */
async function startTagih(server: TemporalServer, databaseUrl: string, dir: string, logger: Logger): Promise<RunningTagih> {
  const taskQueue = `tagih-bench-${server.kind}-${Date.now()}`;
  const env = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: server.namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TAGIH_DATA_DIR: dir,
    TAGIH_ADMIN_API_KEY: benchAdminKey,
  };
  // The API's own sandbox stays unused.
  const apiConfig = loadConfig({ ...env, TAGIH_ROLE: "api", PORT: String(await freePort()), TAGIH_SANDBOX_PORT: String(await freePort()), LOG_LEVEL: "warn" });
  const stack = await startStack(apiConfig, logger.child({ component: "tagih-api" }));
  const unregisterApi = onCleanup("Tagih API", stack.stop);
  // The worker sends SMS as it would to Twilio: with credentials, to a Twilio-compatible API
  // elsewhere (this process), so the messages the sandbox keeps are not in the worker's
  // memory. The sandbox calls back a port where nothing listens: attempts stay "queued" and
  // every account workflow sleeps waiting for an outcome (waitForOutcome P1D), the state
  // whose memory we want.
  const twilio = { accountSid: `AC${randomBytes(16).toString("hex")}`, authToken: randomBytes(16).toString("hex") };
  const sandbox = await startVendorSandbox({ twilio, seed: 1, deliverTo: `http://127.0.0.1:${await freePort()}` });
  const unregisterSandbox = onCleanup("vendor sandbox", sandbox.close);
  const worker = await startWorkerProcess(
    {
      ...env,
      TAGIH_ROLE: "worker",
      PORT: String(await freePort()),
      TAGIH_SANDBOX_PORT: String(await freePort()),
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TAGIH_TWILIO_API_URL: sandbox.url,
      LOG_LEVEL: "error",
    },
    join(dir, `tagih-worker-${server.kind}.log`),
  );
  const pool = new pg.Pool({ ...postgresConfig(databaseUrl), max: 2 });
  // PostgreSQL stopping under an idle connection (Ctrl-C) is no reason to crash.
  pool.on("error", () => {});
  return {
    stack,
    worker,
    sandbox,
    pool,
    taskQueue,
    env,
    async stop() {
      await pool.end();
      await worker.stop();
      unregisterSandbox();
      await sandbox.close();
      unregisterApi();
      await stack.stop();
    },
  };
}

/** Launches the campaign and follows it to the last first attempt, probing the server and the worker meanwhile. */
async function launchAndFollow(tagih: RunningTagih, campaignId: string, accounts: number, namer: Namer, logger: Logger) {
  const { stack, worker, pool } = tagih;
  const probeQueue = `${tagih.taskQueue}-probe`;
  const idle = await idleStartLatency(stack.temporal, probeQueue);
  await worker.memory({ resetLoop: true });
  const cpuBefore = sampleCpu();
  const t0 = performance.now();
  await call(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/launch`, undefined, 202);
  const probe = startLatencyProbe(stack.temporal, probeQueue);
  const progress = await followProgress(pool, campaignId, accounts, t0, logger, () => void probe.stop());
  const duringEnrolment = await probe.stop();
  return {
    progress,
    startLatency: { idle, duringEnrolment },
    workerEventLoop: (await worker.memory()).eventLoopDelay,
    cpuEnrolment: progress.enrolledAt ? cpuBetween(cpuBefore, progress.cpuAtEnrolled!, progress.enrolledAt, namer, availableParallelism()) : undefined,
    cpuAttemptsOnly:
      progress.enrolledAt && progress.attemptedAt && progress.attemptedAt - progress.enrolledAt >= 5
        ? cpuBetween(progress.cpuAtEnrolled!, progress.cpuAtAttempted!, progress.attemptedAt - progress.enrolledAt, namer, availableParallelism())
        : undefined,
  };
}

/** The worker's memory once it is idle with every account workflow asleep. */
async function sleepingWorkerMemory(tagih: RunningTagih): Promise<Omit<TagihResult["worker"], "idle">> {
  const idleReached = await tagih.worker.idle(180_000);
  const sleeping = await tagih.worker.memory();
  await sleep(1000);
  const afterGc = await tagih.worker.memory({ gc: true });
  return { sleeping, afterGc, idleReached };
}

async function createCampaign(apiUrl: string, product: string): Promise<string> {
  const campaign = (await call(
    apiUrl,
    "POST",
    "/v1/campaigns",
    {
      name: `Benchmark ${product}`,
      strategy: { steps: [{ id: "sms", kind: "contact", channel: "sms", template: "reminder" }] },
      segment: { products: [product] },
    },
    201,
  )) as { id: string };
  return campaign.id;
}

async function call(apiUrl: string, method: string, path: string, body: unknown, expected: number): Promise<unknown> {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: body === undefined ? authorization : { "content-type": "application/json", ...authorization },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== expected) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 1000)}`);
  return text ? JSON.parse(text) : undefined;
}

interface Progress {
  firstEnrolmentAt: number | undefined;
  enrolledAt: number | undefined;
  attemptedAt: number | undefined;
  attempted: number;
  cpuAtEnrolled: ReturnType<typeof sampleCpu> | undefined;
  cpuAtAttempted: ReturnType<typeof sampleCpu> | undefined;
  /** [seconds since launch, enrolments running] */
  timeline: [number, number][];
}

/** Polls the enrolments and attempts until all N have both, or nothing moved for STALL_MS. */
async function followProgress(pool: pg.Pool, campaignId: string, total: number, t0: number, logger: Logger, onEnrolled: () => void): Promise<Progress> {
  const p: Progress = {
    firstEnrolmentAt: undefined,
    enrolledAt: undefined,
    attemptedAt: undefined,
    attempted: 0,
    cpuAtEnrolled: undefined,
    cpuAtAttempted: undefined,
    timeline: [],
  };
  let last = "";
  let lastChange = performance.now();
  let lastLog = 0;
  for (;;) {
    const { rows, running } = await enrolmentCounts(pool, campaignId);
    const attempted = await attemptCount(pool, campaignId);
    const now = (performance.now() - t0) / 1000;
    p.timeline.push([now, running]);
    p.attempted = attempted;
    if (rows > 0) p.firstEnrolmentAt ??= now;
    if (running >= total && p.enrolledAt === undefined) {
      p.enrolledAt = now;
      p.cpuAtEnrolled = sampleCpu();
      onEnrolled();
    }
    if (attempted >= total) {
      p.attemptedAt = now;
      p.cpuAtAttempted = sampleCpu();
      return p;
    }
    const state = `${rows}/${running}/${attempted}`;
    if (state !== last) {
      last = state;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > STALL_MS) {
      logger.warn({ rows, running, attempted }, `no progress for ${STALL_MS / 1000} s: giving up waiting`);
      return p;
    }
    if (now - lastLog >= 10) {
      lastLog = now;
      logger.info({ seconds: Math.round(now), enrolments: rows, running, attempted }, "progress");
    }
    await sleep(POLL_MS);
  }
}

async function enrolmentCounts(pool: pg.Pool, campaignId: string): Promise<{ rows: number; running: number }> {
  const { rows } = await pool.query<{ rows: string; running: string }>(
    `SELECT count(*) AS rows, count(*) FILTER (WHERE status IN ('running', 'finished')) AS running FROM enrolments WHERE campaign_id = $1`,
    [campaignId],
  );
  return { rows: Number(rows[0]!.rows), running: Number(rows[0]!.running) };
}

async function attemptCount(pool: pg.Pool, campaignId: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM contact_attempts a JOIN enrolments e ON e.id = a.enrolment_id WHERE e.campaign_id = $1 AND a.vendor_id IS NOT NULL`,
    [campaignId],
  );
  return Number(rows[0]!.n);
}

function steadyRate(timeline: [number, number][], total: number): number | undefined {
  const at = (fraction: number) => timeline.find(([, running]) => running >= total * fraction)?.[0];
  const from = at(0.1);
  const to = at(0.9);
  return from !== undefined && to !== undefined && to > from ? (total * 0.8) / (to - from) : undefined;
}

/** Each enrolPage inserts its page with one statement, so a page is a distinct enrolled_at. */
async function pageStats(pool: pg.Pool, campaignId: string): Promise<PageStats | undefined> {
  const { rows } = await pool.query<{ at: Date; n: string }>(
    `SELECT enrolled_at AS at, count(*) AS n FROM enrolments WHERE campaign_id = $1 GROUP BY enrolled_at ORDER BY enrolled_at`,
    [campaignId],
  );
  if (rows.length < 3) return undefined;
  const gaps = rows.slice(1).map((r, i) => (r.at.getTime() - rows[i]!.at.getTime()) / 1000);
  const sizes = rows.map((r) => Number(r.n)).sort((a, b) => b - a);
  return { pages: rows.length, size: sizes[0]!, medianSeconds: quantile(gaps, 0.5), p95Seconds: quantile(gaps, 0.95) };
}

async function attemptLag(pool: pg.Pool, campaignId: string): Promise<TagihResult["attemptLag"]> {
  const { rows } = await pool.query<{ p50: number | null; p95: number | null; max: number | null }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY lag) AS p95, max(lag) AS max
       FROM (SELECT extract(epoch FROM a.sent_at - e.enrolled_at)::float8 AS lag
               FROM contact_attempts a JOIN enrolments e ON e.id = a.enrolment_id
              WHERE e.campaign_id = $1 AND a.sent_at IS NOT NULL) lags`,
    [campaignId],
  );
  const r = rows[0];
  return r && r.p50 !== null ? { p50: r.p50, p95: r.p95!, max: r.max! } : undefined;
}

/** Asks a workflow without an attempt what it waits for: a compliance hold says so here. */
async function explainMissingAttempts(
  pool: pg.Pool,
  temporal: Awaited<ReturnType<typeof startStack>>["temporal"],
  campaignId: string,
  attempted: number,
  total: number,
  zone: ZoneChoice,
): Promise<string> {
  const { rows } = await pool.query<{ workflow_id: string }>(
    `SELECT e.workflow_id FROM enrolments e LEFT JOIN contact_attempts a ON a.enrolment_id = e.id AND a.vendor_id IS NOT NULL
      WHERE e.campaign_id = $1 AND a.id IS NULL LIMIT 1`,
    [campaignId],
  );
  let state = "no enrolment without an attempt to ask";
  const workflowId = rows[0]?.workflow_id;
  if (workflowId) {
    state = await temporal.workflow
      .getHandle(workflowId)
      .query("accountState")
      .then((s) => `workflow ${workflowId} reports ${JSON.stringify(s)}`)
      .catch((error: unknown) => `workflow ${workflowId} did not answer its query: ${String(error).slice(0, 300)}`);
  }
  return `only ${attempted} of ${total} accounts got a first attempt (accounts in ${zone.zone}, local time ${zone.localTime} at import${zone.inside ? "" : ", outside 08:00–21:00"}); ${state}`;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
