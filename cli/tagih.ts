// `tagih`: the ops command line over Tagih's HTTP API. TAGIH_API_URL (default
// http://localhost:3000) and TAGIH_API_KEY (sent as a bearer token) say where and as whom.
// Exit codes: 0 done; 1 refused or failed (the problem's detail and fields are printed);
// 2 an import completed but rejected rows.
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import cliProgress from "cli-progress";
import { Command, InvalidArgumentError, Option } from "commander";

interface Problem {
  title?: string;
  detail?: string;
  errors?: { field: string; reason: string }[];
}

class CliError extends Error {
  constructor(
    message: string,
    readonly fields: { field: string; reason: string }[] = [],
  ) {
    super(message);
  }
}

/** TAGIH_API_URL without its trailing slash; a value that is no http(s) URL is named as the setting at fault. */
const DEFAULT_API_URL = "http://localhost:3000";

function apiUrl(): string {
  const value = process.env.TAGIH_API_URL ?? DEFAULT_API_URL;
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new CliError(`TAGIH_API_URL must be the API's http or https address, such as http://localhost:3000 (it is ${JSON.stringify(value)})`);
  }
  return value.replace(/\/$/, "");
}

function headers(extra: Record<string, string | number> = {}): Record<string, string | number> {
  const key = process.env.TAGIH_API_KEY;
  return { ...(key ? { authorization: `Bearer ${key}` } : {}), ...extra };
}

/** Sends a request whose body is `body` (a string, or a stream of a file), answering status, content type and text. */
function send(
  method: string,
  path: string,
  options: { headers?: Record<string, string | number>; body?: string | NodeJS.ReadableStream } = {},
): Promise<{ status: number; contentType: string; text: string; response: IncomingMessage }> {
  const url = new URL(`${apiUrl()}${path}`);
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: headers(options.headers) }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (c: Buffer) => chunks.push(c));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          contentType: response.headers["content-type"] ?? "",
          text: Buffer.concat(chunks).toString("utf8"),
          response,
        }),
      );
      response.on("error", reject);
    });
    // Reached and then lost is not "cannot reach": the server may have acted on part of it.
    let connected = false;
    req.on("socket", (socket) => (socket.connecting ? socket.once("connect", () => (connected = true)) : (connected = true)));
    req.on("error", (error) =>
      reject(
        connected
          ? Object.assign(new CliError(`lost the connection to ${apiUrl()} during the request: ${error.message}`), { lost: true })
          : new CliError(`cannot reach ${apiUrl()}: ${error.message}`),
      ),
    );
    if (options.body === undefined || typeof options.body === "string") req.end(options.body);
    else pipeline(options.body, req).catch(reject);
  });
}

/** The JSON answer of a request that must succeed; a problem document becomes a CliError naming its fields. */
async function call<T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const answer = await send(method, path, {
    headers: body === undefined ? extra : { "content-type": "application/json", ...extra },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: answer.status, body: parsed<T>(answer, `${method} ${path}`) };
}

function parsed<T>(answer: { status: number; contentType: string; text: string }, what: string): T {
  if (answer.status >= 400) {
    const problem = answer.contentType.includes("json") ? (safeJson(answer.text) as Problem | undefined) : undefined;
    throw new CliError(
      `${what} failed (${answer.status}${problem?.title ? ` ${problem.title}` : ""}): ${problem?.detail ?? answer.text.slice(0, 500)}`,
      problem?.errors ?? [],
    );
  }
  if (!answer.text) return undefined as T;
  const body = answer.contentType.includes("json") ? safeJson(answer.text) : undefined;
  if (body === undefined)
    throw new CliError(
      `${what}: ${apiUrl()} answered ${answer.status} with ${answer.contentType || "no content type"}, not Tagih's JSON (is TAGIH_API_URL right?)`,
    );
  return body as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const idempotencyOption = () => new Option("--idempotency-key <key>", "Idempotency-Key to send (default: a new random key per invocation)");

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

interface ImportSummary {
  id: string;
  status: string;
  rows: number;
  imported: number;
  updated: number;
  rejectedCount: number;
  rejected: { row: number; field: string; reason: string }[];
  ignoredColumns: string[];
  charset: string;
}

async function importFile(
  file: string,
  options: { allOrNothing?: boolean; format?: string; charset?: string; idempotencyKey?: string; show: number },
): Promise<number> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${file}: ${error.code ?? error.message}`);
  });
  if (!info.isFile()) throw new CliError(`${file} is not a file`);
  const { size } = info;
  const format = options.format ?? (/\.(jsonl|ndjson)$/i.test(file) ? "jsonl" : "csv");
  // Without a charset the API reads UTF-8, or Windows-1252 when the file is not UTF-8.
  const contentType = `${format === "jsonl" ? "application/x-ndjson" : "text/csv"}${options.charset ? `; charset=${options.charset}` : ""}`;
  const bar = new cliProgress.SingleBar(
    { format: "uploading {bar} {percentage}% | {done} of {size}", stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(size, 0, { done: mib(0), size: mib(size) });
  let sent = 0;
  // Counts bytes as the API takes them: the file is read only as fast as the upload goes.
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      bar.update(sent, { done: mib(sent), size: mib(size) });
      done(null, chunk);
    },
  });
  const query = options.allOrNothing ? "?mode=all-or-nothing" : "";
  let answer;
  try {
    answer = await send("POST", `/v1/accounts/import${query}`, {
      headers: { "content-type": contentType, "content-length": size, "idempotency-key": options.idempotencyKey ?? randomUUID() },
      body: createReadStream(file).pipe(counter),
    });
  } catch (error) {
    if (error instanceof CliError && "lost" in error)
      throw new CliError(`${error.message}; rows may have been stored before it was lost: see GET ${apiUrl()}/v1/imports (newest first)`);
    throw error;
  } finally {
    bar.stop();
  }
  const summary = parsed<ImportSummary>(answer, "import");
  const n = (x: number) => x.toLocaleString("en");
  console.log(
    `import ${summary.id}: ${summary.status}; ${n(summary.rows)} rows: ${n(summary.imported)} imported, ${n(summary.updated)} updated, ${n(summary.rejectedCount)} rejected`,
  );
  if (summary.ignoredColumns.length > 0) console.log(`ignored columns: ${summary.ignoredColumns.join(", ")}`);
  // A file read in another charset than UTF-8 is worth a look at its names.
  if (summary.charset !== "utf-8") console.log(`read as ${summary.charset}`);
  const shown = summary.rejected.slice(0, options.show);
  for (const r of shown) console.log(`  row ${r.row}: ${r.field} ${r.reason}`);
  if (summary.rejectedCount > shown.length) console.log(`  … every rejection: GET ${apiUrl()}/v1/imports/${summary.id}/rejections`);
  if (summary.status !== "completed") return 1;
  return summary.rejectedCount > 0 ? 2 : 0;
}

interface Campaign {
  id: string;
  name: string;
  status: string;
}

async function launch(id: string, idempotencyKey: string | undefined): Promise<void> {
  const { body } = await call<Campaign & { alreadyLaunched: boolean }>("POST", `/v1/campaigns/${encodeURIComponent(id)}/launch`, undefined, {
    "idempotency-key": idempotencyKey ?? randomUUID(),
  });
  console.log(`campaign ${body.id} ${body.alreadyLaunched ? "was already launched" : "launched"} (${body.status})`);
}

/** Commander's parser for a count option: a whole number, or a usage error. */
function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number");
  return Number(value);
}

export function program(): Command {
  const cli = new Command("tagih").description("Tagih ops command line (TAGIH_API_URL, TAGIH_API_KEY)").exitOverride();

  cli
    .command("import")
    .description("import a portfolio file (CSV or JSON lines), streamed with a progress bar")
    .argument("<file>", "a .csv, or .jsonl/.ndjson file")
    .option("--all-or-nothing", "keep no row when any row is rejected")
    .addOption(new Option("--format <format>", "file format (default: from the file name)").choices(["csv", "jsonl"]))
    .option("--charset <name>", "the file's character set when it is neither UTF-8 nor Windows-1252 (e.g. windows-1250, iso-8859-2)")
    .option("--show <n>", "rejections to print", wholeNumber, 20)
    .addOption(idempotencyOption())
    .action(async (file: string, options) => {
      process.exitCode = await importFile(file, options);
    });

  const campaign = cli.command("campaign").description("create, launch and follow campaigns");
  campaign
    .command("create")
    .description("create a draft campaign from a JSON file (the body of POST /v1/campaigns)")
    .argument("<file>", "campaign JSON")
    .option("--launch", "launch it right away")
    .addOption(idempotencyOption())
    .action(async (file: string, options: { launch?: boolean; idempotencyKey?: string }) => {
      const key = options.idempotencyKey ?? randomUUID();
      const text = await readFile(file, "utf8");
      // Checked here, so a typo is named in the file rather than as the server's "Malformed JSON".
      try {
        JSON.parse(text);
      } catch (error) {
        throw new CliError(`${file} is not JSON: ${(error as Error).message}`);
      }
      const { body } = await call<Campaign>("POST", "/v1/campaigns", text, { "idempotency-key": key });
      console.log(`campaign ${body.id} created (${body.status}): ${body.name}`);
      if (options.launch) await launch(body.id, `${key}:launch`);
    });
  campaign
    .command("launch")
    .description("launch a draft campaign")
    .argument("<id>", "campaign id")
    .addOption(idempotencyOption())
    .action(async (id: string, options: { idempotencyKey?: string }) => launch(id, options.idempotencyKey));
  campaign
    .command("status")
    .description("enrolment and contact counts")
    .argument("<id>", "campaign id")
    .option("--json", "print the JSON document")
    .action(async (id: string, options: { json?: boolean }) => {
      const { body } = await call<Record<string, unknown> & { outcomes: Record<string, number> }>("GET", `/v1/campaigns/${encodeURIComponent(id)}/summary`);
      if (options.json) return console.log(JSON.stringify(body, null, 2));
      for (const [key, value] of Object.entries(body)) {
        if (key !== "outcomes") console.log(`${key.padEnd(12)} ${String(value)}`);
      }
      for (const [outcome, count] of Object.entries(body.outcomes)) console.log(`outcome      ${outcome}: ${count}`);
    });

  cli
    .command("report")
    .description("a campaign's report (GET /v1/campaigns/{id}/report)")
    .argument("<campaignId>", "campaign id")
    .option("--by <dimensions>", "variant, step, channel, day, dpdBucket, agency (comma-separated)", "variant")
    .option("--from <date>", "first day, YYYY-MM-DD")
    .option("--to <date>", "last day, YYYY-MM-DD")
    .option("--csv <file>", "download the report as CSV to this file")
    .action(async (id: string, options: { by: string; from?: string; to?: string; csv?: string }) => {
      const query = new URLSearchParams({ by: options.by, ...(options.from ? { from: options.from } : {}), ...(options.to ? { to: options.to } : {}) });
      const path = `/v1/campaigns/${encodeURIComponent(id)}/report?${query}`;
      if (options.csv) {
        const answer = await send("GET", `${path}&format=csv`, { headers: { accept: "text/csv" } });
        if (answer.status >= 400) parsed(answer, "report");
        // A file that cannot be written (no such folder, no permission) fails the command.
        await writeFile(options.csv, answer.text).catch((error: NodeJS.ErrnoException) => {
          throw new CliError(`cannot write ${options.csv}: ${error.code ?? error.message}`);
        });
        return console.log(`report written to ${options.csv}`);
      }
      const { body } = await call<{ rows: Record<string, unknown>[]; totals: Record<string, unknown> }>("GET", path);
      console.table(body.rows);
      console.log("totals", body.totals);
    });
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: "user" });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "commander.helpDisplayed" || code === "commander.version" || code === "commander.help") return 0;
    if (code?.startsWith("commander.")) return 1; // commander printed the usage error
    if (error instanceof CliError) {
      console.error(`tagih: ${error.message}`);
      for (const f of error.fields) console.error(`  ${f.field}: ${f.reason}`);
      return 1;
    }
    // Our own code failing on an answer it did not expect: most often another server at the URL.
    const hint =
      error instanceof TypeError ? ` (an answer Tagih does not give: is TAGIH_API_URL, ${process.env.TAGIH_API_URL ?? DEFAULT_API_URL}, Tagih's API?)` : "";
    console.error(`tagih: ${error instanceof Error ? error.message : String(error)}${hint}`);
    return 1;
  }
}
