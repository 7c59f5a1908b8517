// Child process of `npm run bench:callbacks`: the load generator, apart from the API it
// measures so the two do not share an event loop. Told over IPC what to fire, it fires it
// open-loop: request i is due at t0 + i / rate whatever happened to the ones before (a
// slow server does not slow the arrivals, as with Twilio), and its latency is counted from
// that due time, so time spent waiting here for a free connection is not hidden
// (no coordinated omission).
//
// Hand-written on node:http rather than autocannon: each request is a different, signed
// body in a planned order (sent/delivered, duplicates, reordering), the arrivals must not
// wait for responses, and the per-request outcome is needed for the database check;
// autocannon paces closed-loop connections and would need all of that bolted on.
import { writeFile } from "node:fs/promises";
import http from "node:http";
import twilio from "twilio";
import { buildPlan, type PlannedCallback } from "./callbacks-plan.ts";

export interface TwilioTarget {
  kind: "twilio-status";
  prefix: string;
  attempts: number;
  seed: number;
  accountSid: string;
  authToken: string;
  /** What Twilio would have called: signatures are computed over this base plus the path. */
  publicBaseUrl: string;
}

export interface PhaseSpec {
  name: string;
  /** Where requests go (the API's local address). */
  apiUrl: string;
  /** `healthz`: GET /healthz `requests` times; `twilio-status`: the plan of the target. */
  target: { kind: "healthz"; requests: number } | TwilioTarget;
  rate: number;
  connections: number;
  timeoutMs: number;
  /** One line per request, for a look afterwards. */
  csvFile?: string;
}

export interface Distribution {
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface PhaseResult {
  name: string;
  requests: number;
  targetRate: number;
  /** From the first due time until the last response. */
  seconds: number;
  /** 2xx responses per second between the first and the last 2xx response. */
  achievedRate: number;
  /** Responses (any status) per whole second while requests were being fired. */
  perSecond: { min: number; median: number; seconds: number };
  /** From the due time to the end of the response (what a caller firing at `rate` sees). */
  latency: Distribution;
  /** The p99 of `latency` over the requests due in each whole second of firing. */
  p99BySecond: number[];
  /** `latency` of the requests due after the first `seconds` of firing: the rate jumps from idle to full at the start. */
  afterRamp: { seconds: number; latency: Distribution } | undefined;
  /** From getting a connection to the end of the response. */
  service: Distribution;
  /** From the due time to getting a connection: timer lag here plus waiting for a free connection. */
  sendLag: Distribution;
  /** HTTP status → count; "error: <code>" for requests without a response. */
  outcomes: Record<string, number>;
  non2xx: number;
  errors: number;
  /** Per planned request: the HTTP status, 0 for no response. */
  statuses: number[];
}

export type LoadRequest = { type: "run"; phase: PhaseSpec } | { type: "exit" };
export type LoadMessage = { type: "ready" } | { type: "done"; result: PhaseResult } | { type: "failed"; error: string };

interface Prepared {
  method: "GET" | "POST";
  path: string;
  headers: http.OutgoingHttpHeaders;
  body: Buffer | undefined;
  planned: PlannedCallback | undefined;
}

const STATUS_PATH = "/v1/webhooks/twilio/status";

/** Builds every request (bodies signed) before the clock starts, so firing is cheap. */
function prepare(spec: PhaseSpec): Prepared[] {
  const target = spec.target;
  if (target.kind === "healthz") {
    return Array.from({ length: target.requests }, () => ({ method: "GET", path: "/healthz", headers: {}, body: undefined, planned: undefined }));
  }
  const url = `${target.publicBaseUrl}${STATUS_PATH}`;
  // Twilio signs the parameters, not their order; a redelivery is the same request again.
  const signed = new Map<string, { body: Buffer; signature: string }>();
  return buildPlan({ prefix: target.prefix, attempts: target.attempts, seed: target.seed }).map((planned) => {
    const key = `${planned.sid}:${planned.status}`;
    let request = signed.get(key);
    if (!request) {
      const params = twilioStatusParams(target.accountSid, planned);
      request = { body: Buffer.from(new URLSearchParams(params).toString()), signature: twilio.getExpectedTwilioSignature(target.authToken, url, params) };
      signed.set(key, request);
    }
    return {
      method: "POST",
      path: STATUS_PATH,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "content-length": request.body.length,
        "user-agent": "TwilioProxy/1.1",
        "x-twilio-signature": request.signature,
        // Twilio repeats the token when it redelivers the same webhook.
        "i-twilio-idempotency-token": key,
      },
      body: request.body,
      planned,
    };
  });
}

/** The form parameters of a Twilio SMS status callback, in the order Twilio sends them. */
function twilioStatusParams(accountSid: string, c: PlannedCallback): Record<string, string> {
  const params: Record<string, string> = {
    SmsSid: c.sid,
    SmsStatus: c.status,
    MessageStatus: c.status,
    To: `+1555${String(c.attempt % 10_000_000).padStart(7, "0")}`,
    MessageSid: c.sid,
    AccountSid: accountSid,
    From: "+15005550006",
    ApiVersion: "2010-04-01",
  };
  if (c.status === "delivered") params.RawDlrDoneDate = "2611231200";
  return params;
}

async function runPhase(spec: PhaseSpec): Promise<PhaseResult> {
  const requests = prepare(spec);
  const total = requests.length;
  const api = new URL(spec.apiUrl);
  // FIFO spreads requests over all connections (as many Twilio senders would), so none sits
  // idle into the server's keep-alive timeout and gets reset as it is reused.
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections, maxFreeSockets: spec.connections, scheduling: "fifo" });
  const interval = 1000 / spec.rate;
  const latency = new Float64Array(total);
  const service = new Float64Array(total);
  const lag = new Float64Array(total);
  const endAt = new Float64Array(total);
  const statuses = new Array<number>(total).fill(0);
  const errors = new Map<string, number>();
  let completed = 0;
  let finish: () => void = () => {};
  const allDone = new Promise<void>((resolve) => (finish = resolve));
  const t0 = performance.now() + 50;

  const fire = (i: number) => {
    const r = requests[i]!;
    const due = t0 + i * interval;
    let connected = performance.now();
    let settled = false;
    const settle = (status: number, error?: string) => {
      if (settled) return;
      settled = true;
      const now = performance.now();
      latency[i] = now - due;
      service[i] = now - connected;
      lag[i] = connected - due;
      endAt[i] = now - t0;
      statuses[i] = status;
      if (error) errors.set(error, (errors.get(error) ?? 0) + 1);
      if (++completed === total) finish();
    };
    const req = http.request({ agent, host: api.hostname, port: api.port, method: r.method, path: r.path, headers: r.headers }, (res) => {
      res.resume();
      res.once("end", () => settle(res.statusCode ?? 0));
      res.once("error", (e: NodeJS.ErrnoException) => settle(0, e.code ?? e.message));
    });
    req.once("socket", () => (connected = performance.now()));
    req.setTimeout(spec.timeoutMs, () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.once("error", (e: NodeJS.ErrnoException) => settle(0, e.code ?? e.message));
    req.end(r.body);
  };

  let next = 0;
  const tick = () => {
    const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
    while (next < due) fire(next++);
    if (next < total) setTimeout(tick, 1);
  };
  setTimeout(tick, Math.max(0, t0 - performance.now()));
  await allDone;
  agent.destroy();

  if (spec.csvFile) {
    const lines = ["i,attempt,status,duplicate,out_of_order,http,latency_ms,service_ms,send_lag_ms,end_ms"];
    for (let i = 0; i < total; i++) {
      const p = requests[i]!.planned;
      lines.push(
        [
          i,
          p?.attempt ?? "",
          p?.status ?? "",
          p?.duplicate ?? "",
          p?.outOfOrder ?? "",
          statuses[i],
          latency[i]!.toFixed(2),
          service[i]!.toFixed(2),
          lag[i]!.toFixed(2),
          endAt[i]!.toFixed(1),
        ].join(","),
      );
    }
    await writeFile(spec.csvFile, lines.join("\n") + "\n");
  }

  const outcomes: Record<string, number> = {};
  for (const s of statuses) if (s) outcomes[String(s)] = (outcomes[String(s)] ?? 0) + 1;
  for (const [code, n] of errors) outcomes[`error: ${code}`] = n;
  let ok = 0;
  let answered = 0;
  let firstOk = Infinity;
  let lastOk = -Infinity;
  statuses.forEach((s, i) => {
    if (s > 0) answered++;
    if (s < 200 || s >= 300) return;
    ok++;
    firstOk = Math.min(firstOk, endAt[i]!);
    lastOk = Math.max(lastOk, endAt[i]!);
  });
  return {
    name: spec.name,
    requests: total,
    targetRate: spec.rate,
    seconds: endAt.reduce((a, b) => Math.max(a, b), 0) / 1000,
    achievedRate: ok > 1 && lastOk > firstOk ? ((ok - 1) * 1000) / (lastOk - firstOk) : 0,
    perSecond: perSecond(endAt, Math.floor(((total - 1) * interval) / 1000)),
    latency: distribution(latency),
    ...bySecond(latency, interval),
    service: distribution(service),
    sendLag: distribution(lag),
    outcomes,
    non2xx: answered - ok,
    errors: total - answered,
    statuses,
  };
}

/** Responses per whole second while firing (seconds [0, fullSeconds)). */
function perSecond(endAt: Float64Array, fullSeconds: number): PhaseResult["perSecond"] {
  if (fullSeconds < 1) return { min: 0, median: 0, seconds: 0 };
  const buckets = new Array<number>(fullSeconds).fill(0);
  for (const t of endAt) {
    const b = Math.floor(t / 1000);
    if (b >= 0 && b < fullSeconds) buckets[b]!++;
  }
  const sorted = [...buckets].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, seconds: fullSeconds };
}

const RAMP_SECONDS = 5;

/** Latency by the second each request was due in (request i is due i × interval ms after the first). */
function bySecond(latency: Float64Array, interval: number): Pick<PhaseResult, "p99BySecond" | "afterRamp"> {
  const firstOf = (second: number) => Math.min(latency.length, Math.ceil((second * 1000) / interval));
  const p99BySecond: number[] = [];
  for (let second = 0; firstOf(second) < latency.length; second++) p99BySecond.push(distribution(latency.subarray(firstOf(second), firstOf(second + 1))).p99);
  const rest = latency.subarray(firstOf(RAMP_SECONDS));
  return { p99BySecond, afterRamp: rest.length > 0 ? { seconds: RAMP_SECONDS, latency: distribution(rest) } : undefined };
}

function distribution(values: Float64Array): Distribution {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const sum = sorted.reduce((a, b) => a + b, 0);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), p999: at(0.999), max: sorted[sorted.length - 1]!, mean: sum / sorted.length };
}

const send = (message: LoadMessage) => process.send?.(message);

process.on("message", (request: LoadRequest) => {
  if (request.type === "exit") process.exit(0);
  runPhase(request.phase).then(
    (result) => send({ type: "done", result }),
    (error: unknown) => send({ type: "failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
