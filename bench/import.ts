// `npm run bench:import [-- --rows N] [--bad-every K] [--mode valid-rows|all-or-nothing] [--profile] [--api-heap-mib M, default 160, 0: V8's own]`
//
// Writes an N-row CSV portfolio (national phone formats of ID, IN, KE, SG, US and GB, one
// bad row in every K) to disk, starts Tagih's API alone in a child process on an embedded
// PostgreSQL, streams the file to `POST /v1/accounts/import` and reports rows per second and
// the API process's peak memory. Baseline in the same run: PostgreSQL's own `COPY` of the
// same file into a scratch table. Writes bench/results/import-<date>.md. Not part of `npm test`.
import { once } from "node:events";
import { createReadStream, createWriteStream, readdirSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import type { Profiler } from "node:inspector";
import { request } from "node:http";
import { availableParallelism } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { repoRoot } from "../runtime/config.ts";
import { postgresConfig } from "../runtime/database-url.ts";
import type { Logger } from "../runtime/logger.ts";
import { freePort } from "../test/ports.ts";
import { authorization, benchAdminKey } from "./api-key.ts";
import { summarise, type ProfileSummary } from "./callbacks-profile.ts";
import { cpuBetween, formatCpu, sampleCpu, type CpuWindow } from "./cpu.ts";
import { createBenchLogger } from "./log.ts";
import { startBenchPostgres } from "./postgres.ts";
import { cleanupAll, installSignalHandlers, run, runBench, sleep, spawnChild, type ChildHandle } from "./processes.ts";
import { machineLine, writeReport } from "./report.ts";
import { startDevServer } from "./temporal-servers.ts";

const TARGET_ROWS_PER_SECOND = 30_000;
// The issue's "300 MB", in decimal megabytes (286 MiB).
const TARGET_PEAK_RSS = 300e6;
/** The old-space cap the README gives an API process (NODE_OPTIONS=--max-old-space-size=160). */
const API_HEAP_MIB = 160;

interface Options {
  rows: number;
  badEvery: number;
  mode: "valid-rows" | "all-or-nothing";
  /** A V8 CPU profile of the API process, summarised in the report. */
  profile: boolean;
  /**
   * --max-old-space-size of the API process: by default the 160 MiB the README gives API
   * processes; 0: V8's default, which lets garbage pile up long before collecting it.
   */
  apiHeapMib: number | undefined;
}

function readOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: "string", default: "1000000" },
      "bad-every": { type: "string", default: "1000" },
      mode: { type: "string", default: "valid-rows" },
      profile: { type: "boolean", default: false },
      "api-heap-mib": { type: "string", default: String(API_HEAP_MIB) },
    },
  });
  const heap = Number(values["api-heap-mib"]);
  if (!(Number.isInteger(heap) && (heap === 0 || heap >= 64))) throw new Error(`--api-heap-mib must be 0 (V8's default) or an integer of at least 64`);
  const apiHeapMib = heap === 0 ? undefined : heap;
  const rows = Number(values.rows);
  const badEvery = Number(values["bad-every"]);
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`--rows must be a positive integer (got ${values.rows})`);
  if (!Number.isInteger(badEvery) || badEvery < 2) throw new Error(`--bad-every must be an integer of at least 2 (got ${values["bad-every"]})`);
  if (values.mode !== "valid-rows" && values.mode !== "all-or-nothing") throw new Error(`--mode is valid-rows or all-or-nothing (got ${values.mode})`);
  return { rows, badEvery, mode: values.mode, profile: values.profile, apiHeapMib };
}

const HEADER = "externalId,name,phone,jurisdiction,timeZone,locale,product,currency,balance,daysPastDue,dueDate";

/** Debtors of each jurisdiction, with a phone number in its national format. */
const PROFILES: { jurisdiction: string; zone: string; locale: string; currency: string; phone: (n: number) => string; balance: (n: number) => string }[] = [
  {
    jurisdiction: "ID",
    zone: "Asia/Jakarta",
    locale: "id-ID",
    currency: "IDR",
    phone: (n) => `0812-${d(n, 4)}-${d(n * 7, 4)}`,
    balance: (n) => `${1000 + (n % 90000)}000.50`,
  },
  {
    jurisdiction: "IN",
    zone: "Asia/Kolkata",
    locale: "en-IN",
    currency: "INR",
    phone: (n) => `98${d(n, 3)} ${d(n * 3, 5)}`,
    balance: (n) => `${n % 500000}.25`,
  },
  { jurisdiction: "KE", zone: "Africa/Nairobi", locale: "sw-KE", currency: "KES", phone: (n) => `0712 ${d(n, 6)}`, balance: (n) => `${n % 300000}` },
  {
    jurisdiction: "SG",
    zone: "Asia/Singapore",
    locale: "en-SG",
    currency: "SGD",
    phone: (n) => `9${n % 9}${d(n, 2)} ${d(n * 11, 4)}`,
    balance: (n) => `${n % 20000}.99`,
  },
  {
    jurisdiction: "US",
    zone: "America/New_York",
    locale: "en-US",
    currency: "USD",
    phone: (n) => `(212) 7${d(n, 2)}-${d(n * 13, 4)}`,
    balance: (n) => `${n % 9000}.10`,
  },
  { jurisdiction: "GB", zone: "Europe/London", locale: "en-GB", currency: "GBP", phone: (n) => `07911 1${d(n, 5)}`, balance: (n) => `${n % 7000}.05` },
];

const d = (n: number, digits: number) => String(n % 10 ** digits).padStart(digits, "0");

/** One CSV line; every `badEvery`-th row carries one fault, in turn: a short phone, a grouped amount, a negative DPD. */
function line(i: number, badEvery: number): string {
  const p = PROFILES[i % PROFILES.length]!;
  const bad = i % badEvery === badEvery - 1 ? Math.floor(i / badEvery) % 3 : -1;
  const phone = bad === 0 ? "12345" : p.phone(i);
  const balance = bad === 1 ? `"1,${p.balance(i)}"` : p.balance(i);
  const dpd = bad === 2 ? "-3" : String(i % 180);
  return `BENCH-${i},"Debtor ${i}, Jr.",${phone},${p.jurisdiction},${p.zone},${p.locale},credit-card,${p.currency},${balance},${dpd},2026-12-${d((i % 28) + 1, 2)}\n`;
}

/** Writes the file a chunk at a time, waiting for the disk when it falls behind. */
async function writeCsv(file: string, options: Options): Promise<{ bytes: number; bad: number }> {
  const out = createWriteStream(file);
  out.write(`${HEADER}\n`);
  let chunk = "";
  let bad = 0;
  for (let i = 0; i < options.rows; i++) {
    if (i % options.badEvery === options.badEvery - 1) bad += 1;
    chunk += line(i, options.badEvery);
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, "drain");
      chunk = "";
    }
  }
  out.end(chunk);
  await once(out, "finish");
  return { bytes: (await stat(file)).size, bad };
}

/** The API alone (TAGIH_ROLE=api), compiled as `npm start` runs it, so its memory is its own. */
async function startApi(
  env: Record<string, string>,
  dir: string,
  profileDir: string | undefined,
  heapMib: number | undefined,
): Promise<{ child: ChildHandle; url: string }> {
  const port = await freePort();
  const profiling = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, "--cpu-prof-interval=500"] : [];
  const heap = heapMib ? [`--max-old-space-size=${heapMib}`] : [];
  const child = spawnChild("Tagih API", process.execPath, [...profiling, ...heap, join(repoRoot, "dist", "runtime", "main.js")], {
    env: {
      ...process.env,
      ...env,
      TAGIH_ADMIN_API_KEY: benchAdminKey,
      TAGIH_ROLE: "api",
      // As the README runs an API-only process: an arena per thread held 6–18 MiB more at the peak (interleaved runs).
      MALLOC_ARENA_MAX: "2",
      PORT: String(port),
      TAGIH_SANDBOX_PORT: String(await freePort()),
      LOG_LEVEL: "warn",
    },
    cwd: repoRoot,
    logFile: join(dir, "tagih-api-import.log"),
  });
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(250)) {
    if (child.process.exitCode !== null) throw new Error(`the Tagih API exited: ${child.tail()}`);
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { child, url };
  }
  throw new Error(`the Tagih API did not answer within 120 s: ${child.tail()}`);
}

/** CPU seconds each thread of `pid` has used so far, by thread name; the main thread (whose id is the pid) as "event loop". */
function threadSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      // Fields 14 and 15 (utime, stime) in clock ticks of 1/100 s, counted after the command name's ")".
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const name = tid === String(pid) ? "event loop" : stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // the thread ended while we read
    }
  }
  return byName;
}

/** RSS now and its peak so far (VmHWM), in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

interface UploadResult {
  status: number;
  body: { status: string; rows: number; imported: number; updated: number; rejectedCount: number; bytesRead: number; error?: string };
  seconds: number;
}

/** Streams the file to the import route; the file stream pauses whenever the API does. */
function uploadFile(url: string, file: string, bytes: number, mode: string): Promise<UploadResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/accounts/import?mode=${mode}`,
      { method: "POST", headers: { "content-type": "text/csv", "content-length": bytes, ...authorization } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => {
          const seconds = (performance.now() - started) / 1000;
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as UploadResult["body"], seconds });
          } catch {
            reject(new Error(`the import answered ${res.statusCode} after ${seconds.toFixed(0)} s with no JSON: ${text.slice(0, 500)}`));
          }
        });
      },
    );
    req.on("error", reject);
    createReadStream(file).pipe(req);
  });
}

/** PostgreSQL reading the same file itself into a scratch table of text columns: the floor for getting these bytes into the database. */
async function copyBaseline(databaseUrl: string, file: string): Promise<{ seconds: number; rows: number }> {
  const client = new pg.Client(postgresConfig(databaseUrl));
  await client.connect();
  try {
    await client.query(`DROP TABLE IF EXISTS import_copy_baseline`);
    await client.query(
      `CREATE TABLE import_copy_baseline (${HEADER.split(",")
        .map((c) => `"${c}" text`)
        .join(", ")})`,
    );
    const started = performance.now();
    const result = await client.query(`COPY import_copy_baseline FROM '${file.replace(/'/g, "''")}' WITH (FORMAT csv, HEADER true)`);
    const seconds = (performance.now() - started) / 1000;
    await client.query(`DROP TABLE import_copy_baseline`);
    return { seconds, rows: result.rowCount ?? 0 };
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = readOptions(argv);
  installSignalHandlers();
  const logger: Logger = createBenchLogger();
  const startedAt = new Date();
  const dir = join(repoRoot, ".data", "bench");
  await mkdir(dir, { recursive: true });
  try {
    const file = join(dir, `import-${options.rows}.csv`);
    logger.info({ rows: options.rows, file }, "writing the CSV");
    const written = await writeCsv(file, options);
    logger.info({ megabytes: (written.bytes / 2 ** 20).toFixed(1), badRows: written.bad }, "CSV written");

    const postgres = await startBenchPostgres(dir, logger);
    const databaseUrl = await postgres.freshDatabase("bench_import");
    const temporal = await startDevServer(dir, logger);
    const profileDir = options.profile ? join(dir, `import-profile-${Date.now()}`) : undefined;
    const api = await startApi(
      { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace, TAGIH_DATA_DIR: dir },
      dir,
      profileDir,
      options.apiHeapMib,
    );
    const idle = memoryOf(api.child.pid);
    logger.info({ rssMiB: (idle.rss / 2 ** 20).toFixed(0) }, "API up; uploading");

    let peakSampled = idle.rss;
    const sampler = setInterval(() => {
      peakSampled = Math.max(peakSampled, memoryOf(api.child.pid).rss);
    }, 200);
    const cpuBefore = sampleCpu();
    const threadsBefore = threadSeconds(api.child.pid);
    const upload = await uploadFile(api.url, file, written.bytes, options.mode);
    clearInterval(sampler);
    const threads = [...threadSeconds(api.child.pid)]
      .map(([name, seconds]) => ({ name, seconds: seconds - (threadsBefore.get(name) ?? 0) }))
      .filter((t) => t.seconds > 0)
      .sort((a, b) => b.seconds - a.seconds);
    const cpu = cpuBetween(
      cpuBefore,
      sampleCpu(),
      upload.seconds,
      (pid, comm) => (pid === api.child.pid ? "Tagih API (node)" : comm === "postgres" ? "PostgreSQL" : comm),
      availableParallelism(),
    );
    const after = memoryOf(api.child.pid);
    if (upload.status !== 200) throw new Error(`the import answered ${upload.status}: ${JSON.stringify(upload.body).slice(0, 1000)}`);
    const { status, rows, imported, updated, rejectedCount } = upload.body;
    logger.info({ seconds: upload.seconds.toFixed(1), status, rows, imported, updated, rejectedCount }, "import finished");

    const copy = await copyBaseline(databaseUrl, file);
    logger.info({ seconds: copy.seconds.toFixed(1) }, "COPY baseline measured");
    await api.child.stop();
    await temporal.stop();
    const profile = profileDir ? await readProfile(profileDir) : undefined;

    const head = (await run("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot }).catch(() => "unknown")).trim();
    const report = renderImportReport({
      command: `npm run bench:import${argv.length ? ` -- ${argv.join(" ")}` : ""}`,
      startedAt,
      commit: head,
      options,
      written,
      upload,
      memory: { idle: idle.rss, peak: after.peak, peakSampled },
      copy,
      cpu,
      threads,
      profile,
    });
    const out = join(
      repoRoot,
      "bench",
      "results",
      `import-${startedAt.toISOString().slice(0, 10)}${options.rows === 1_000_000 ? "" : `-n${options.rows}`}${options.apiHeapMib === API_HEAP_MIB ? "" : `-heap${options.apiHeapMib ?? "default"}`}.md`,
    );
    const formatted = await writeReport(out, report);
    process.stdout.write(`\n${formatted}\nWritten to ${out}\n`);
  } finally {
    await cleanupAll();
  }
}

/** The profile the API wrote with --cpu-prof when it stopped. */
async function readProfile(profileDir: string): Promise<ProfileSummary | undefined> {
  const files = (await readdir(profileDir).catch(() => [])).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) return undefined;
  const file = join(profileDir, files[0]!);
  return summarise(JSON.parse(await readFile(file, "utf8")) as Profiler.Profile, file);
}

function renderImportReport(r: {
  command: string;
  startedAt: Date;
  commit: string;
  options: Options;
  written: { bytes: number; bad: number };
  upload: UploadResult;
  memory: { idle: number; peak: number; peakSampled: number };
  copy: { seconds: number; rows: number };
  cpu: CpuWindow;
  /** CPU seconds of the API's threads over the upload, by thread name (threads that ended before its end are missing). */
  threads: { name: string; seconds: number }[];
  profile: ProfileSummary | undefined;
}): string {
  const rate = r.options.rows / r.upload.seconds;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const verdict = (ok: boolean) => (ok ? "met" : "**missed**");
  const b = r.upload.body;
  const cpuOf = (group: string) => r.cpu.groups.find((g) => g.name === group)?.cpuSeconds ?? 0;
  const perRow = (group: string) => `${((cpuOf(group) / r.options.rows) * 1e6).toFixed(0)} µs`;
  return [
    `# Import benchmark, ${r.startedAt.toISOString().slice(0, 10)}`,
    "",
    "```sh",
    r.command,
    "```",
    "",
    `Commit ${r.commit}; ${machineLine()}. One run; the machine may be shared with other work (see the CPU line).`,
    "",
    `File: ${r.options.rows.toLocaleString("en")} rows, ${mib(r.written.bytes)}, CSV with national phone formats of ID, IN, KE, SG, US, GB; ` +
      `${r.written.bad.toLocaleString("en")} bad rows (one in ${r.options.badEvery}). Mode ${r.options.mode}. API: MALLOC_ARENA_MAX=2, heap ${r.options.apiHeapMib ? `--max-old-space-size=${r.options.apiHeapMib}` : "V8 default"}. Streamed with Content-Length to the API running alone (\`TAGIH_ROLE=api\`) on embedded PostgreSQL.`,
    "",
    "| measure | value | target |",
    "| --- | --- | --- |",
    `| rows per second (upload start to summary) | ${Math.round(rate).toLocaleString("en")} | ≥ ${TARGET_ROWS_PER_SECOND.toLocaleString("en")}: ${verdict(rate >= TARGET_ROWS_PER_SECOND)} |`,
    `| wall time | ${r.upload.seconds.toFixed(1)} s | |`,
    `| API peak RSS (VmHWM) | ${mib(r.memory.peak)} = ${(r.memory.peak / 1e6).toFixed(0)} MB (idle before: ${mib(r.memory.idle)}; largest 200 ms sample: ${mib(r.memory.peakSampled)}) | < 300 MB (${mib(TARGET_PEAK_RSS)}): ${verdict(r.memory.peak < TARGET_PEAK_RSS)} |`,
    `| result | ${b.status}: ${b.imported.toLocaleString("en")} imported, ${b.updated.toLocaleString("en")} updated, ${b.rejectedCount.toLocaleString("en")} rejected of ${b.rows.toLocaleString("en")} rows | ${r.written.bad.toLocaleString("en")} rejected expected |`,
    `| baseline: PostgreSQL \`COPY\` of the same file into a text table | ${r.copy.seconds.toFixed(1)} s, ${Math.round(r.copy.rows / r.copy.seconds).toLocaleString("en")} rows/s | |`,
    "",
    `CPU during the import: ${formatCpu(r.cpu)}.`,
    "",
    `CPU cost per row, which does not depend on how busy the machine was: API ${perRow("Tagih API (node)")} ` +
      `(by thread: ${r.threads
        .filter((t) => t.seconds / r.options.rows >= 5e-7)
        .map((t) => `${t.name} ${((t.seconds / r.options.rows) * 1e6).toFixed(0)} µs`)
        .join(", ")}), PostgreSQL ${perRow("PostgreSQL")}. ` +
      `With two cores to themselves they would import about ${Math.round(2 / ((cpuOf("Tagih API (node)") + cpuOf("PostgreSQL")) / r.options.rows)).toLocaleString("en")} rows/s ` +
      `if the work spread evenly over both cores; the event loop alone allows ${Math.round(r.options.rows / (r.threads.find((t) => t.name === "event loop")?.seconds ?? NaN)).toLocaleString("en")} rows/s.`,
    "",
    ...(r.profile
      ? [
          "",
          `API profile (\`${relative(repoRoot, r.profile.file)}\`, from start to stop, busy ${(r.profile.busyShare * 100).toFixed(0)}% of ${r.profile.seconds.toFixed(0)} s): ` +
            r.profile.byOwner.map((o) => `${o.owner} ${(o.share * 100).toFixed(0)}%`).join(", ") +
            ". Top functions: " +
            r.profile.topFunctions
              .slice(0, 8)
              .map((f) => `\`${f.name}\` ${(f.share * 100).toFixed(0)}%`)
              .join(", ") +
            ".",
        ]
      : []),
    "",
  ].join("\n");
}

runBench(main);
