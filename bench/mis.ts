// `npm run bench:mis [-- --accounts 1000000 --attempts 5000000 --callbacks 10000000 --requests 50] [--reuse]`
//
// --reuse measures again on the database the previous run seeded (kept in .data/bench-mis),
// skipping its seed of about twenty minutes; the kept counts must match the ones asked for.
//
// Seeds a portfolio with set-based SQL (generate_series) with the rollup triggers off, then
// builds the rollup with mis_rebuild() — the state the triggers keep row by row in
// production, proven equal by test/mis.test.ts — and measures a campaign report over the
// API (p50/p95 over requests with varying `by`) against the same figures by a plain
// aggregate over the raw tables, in the same run. Writes bench/results/mis-<date>.md.
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import { Client, Connection } from "@temporalio/client";
import pg from "pg";
import { createApp } from "../api/app.ts";
import { repoRoot } from "../runtime/config.ts";
import { postgresConfig } from "../runtime/database-url.ts";
import { createBulkPool, createDatabase, createPool } from "../runtime/database.ts";
import { createRowValidators } from "../store/import-validation.ts";
import { migrate } from "../runtime/migrate.ts";
import { createBenchLogger } from "./log.ts";
import { startBenchPostgres } from "./postgres.ts";
import { cleanupAll, installSignalHandlers, onCleanup } from "./processes.ts";
import { ensureAdminKey } from "../store/api-keys.ts";
import { authorization, benchAdminKey } from "./api-key.ts";
import { machineLine, writeReport } from "./report.ts";
import { freePort } from "../test/ports.ts";

const { values } = parseArgs({
  options: {
    accounts: { type: "string", default: "1000000" },
    attempts: { type: "string", default: "5000000" },
    callbacks: { type: "string", default: "10000000" },
    requests: { type: "string", default: "50" },
    reuse: { type: "boolean", default: false },
  },
});
const N = { accounts: Number(values.accounts), attempts: Number(values.attempts), callbacks: Number(values.callbacks), requests: Number(values.requests) };
for (const [k, v] of Object.entries(N)) if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);

const GRAINS = [
  ["variant"],
  ["variant", "channel"],
  ["step", "channel"],
  ["day"],
  ["dpdBucket", "agency"],
  ["variant", "step", "channel", "day", "dpdBucket", "agency"],
];
const CAMPAIGN = "00000000-0000-4000-8000-000000000001";
const STEPS = [
  ["sms-1", "sms"],
  ["email-1", "email"],
  ["whatsapp-1", "whatsapp"],
  ["voice-1", "voice"],
  ["sms-2", "sms"],
  ["email-2", "email"],
  ["voice-2", "voice"],
] as const;

installSignalHandlers();
const logger = createBenchLogger("warn");
const startedAt = new Date();
const timings: [string, number][] = [];
const timed = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
  const t0 = performance.now();
  const result = await run();
  timings.push([what, (performance.now() - t0) / 1000]);
  console.log(`${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return result;
};

try {
  const postgres = await startBenchPostgres(join(repoRoot, ".data", "bench-mis"), logger);
  const url = values.reuse ? postgres.url("tagih_mis_bench") : await postgres.freshDatabase("tagih_mis_bench");
  await migrate(url, logger);
  const sql = new pg.Client(postgresConfig(url));
  await sql.connect();
  onCleanup("bench SQL client", () => sql.end());
  await sql.query("SET work_mem = '256MB'");
  await sql.query("SET maintenance_work_mem = '512MB'");

  if (!values.reuse) {
    const triggers = ["contact_attempts", "enrolments", "placements", "payments", "promises"];
    for (const t of triggers) await sql.query(`ALTER TABLE ${t} DISABLE TRIGGER mis_facts`);
    await timed("seed accounts, campaign, enrolments", () => seedAccounts(sql));
    await timed(`seed ${N.attempts.toLocaleString("en")} attempts`, () => seedAttempts(sql));
    await timed(`seed ${N.callbacks.toLocaleString("en")} callbacks`, () => seedCallbacks(sql));
    await timed("seed payments, promises, placements", () => seedOutcomes(sql));
    for (const t of triggers) await sql.query(`ALTER TABLE ${t} ENABLE TRIGGER mis_facts`);
    await timed("build the rollup (mis_rebuild)", () => sql.query("SELECT mis_rebuild()"));
    await sql.query("VACUUM ANALYZE");
  }
  const counts = (
    await sql.query(
      `SELECT (SELECT count(*) FROM accounts) AS accounts, (SELECT count(*) FROM contact_attempts) AS attempts, (SELECT count(*) FROM callbacks) AS callbacks,
              (SELECT count(*) FROM payments) AS payments, (SELECT count(*) FROM campaign_daily_facts) AS facts`,
    )
  ).rows[0] as Record<string, string>;
  console.log(counts);
  const kept = { accounts: Number(counts.accounts), attempts: Number(counts.attempts), callbacks: Number(counts.callbacks) };
  if (kept.accounts !== N.accounts || kept.attempts !== N.attempts || kept.callbacks !== N.callbacks)
    throw new Error(`the database holds ${JSON.stringify(kept)}, not the counts asked for: run without --reuse to seed it`);

  // The API, in this process, on its own port; reports need no Temporal.
  const pool = createPool(url, logger, 10);
  const db = createDatabase(pool);
  await ensureAdminKey(db, benchAdminKey);
  const temporal = new Client({ connection: Connection.lazy({ address: "127.0.0.1:1" }) });
  const port = await freePort();
  const bulk = createBulkPool(url, logger);
  onCleanup("bulk pool", () => bulk.end());
  const rowValidators = createRowValidators();
  onCleanup("row validators", () => rowValidators.close());
  const app = createApp({
    db,
    sql: pool,
    bulk,
    rowValidators,
    temporal,
    logger,
    settings: { publicBaseUrl: `http://127.0.0.1:${port}`, taskQueue: "bench", twilioAuthToken: "x", maxBodyBytes: 1_000_000, privateEndpoints: "refuse" },
  });
  const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" });
  onCleanup("API", () => new Promise((resolve) => server.close(resolve)));
  onCleanup("database", () => db.$disconnect());

  const report = async (by: string[]) => {
    const t0 = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/v1/campaigns/${CAMPAIGN}/report?by=${by.join(",")}&from=2026-01-01&to=2026-12-31`, {
      headers: authorization,
    });
    // Latency ends with the body's last byte; parsing it is the client's work, not the API's.
    const bytes = await response.arrayBuffer();
    const ms = performance.now() - t0;
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { rows: Record<string, unknown>[]; totals: Record<string, number | string>[] };
    if (response.status !== 200) throw new Error(`report answered ${response.status}: ${JSON.stringify(body)}`);
    return { ms, body };
  };
  for (const by of GRAINS) await report(by); // warm-up
  const latencies: number[] = [];
  const byGrain = new Map<string, number[]>();
  for (let i = 0; i < N.requests; i++) {
    const by = GRAINS[i % GRAINS.length]!;
    const { ms } = await report(by);
    latencies.push(ms);
    byGrain.set(by.join(","), [...(byGrain.get(by.join(",")) ?? []), ms]);
  }

  // The same figures by a plain aggregate over the raw tables: the funnel from attempts, the
  // account figures from enrolments and payments, by variant and channel.
  const raw: number[] = [];
  let rawRows: Record<string, string>[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const funnel = await sql.query(
      `SELECT e.variant, t.channel, count(*) AS attempted, count(*) FILTER (WHERE t.status IN ('delivered', 'read')) AS delivered,
              count(*) FILTER (WHERE t.status IN ('undelivered', 'failed', 'canceled')) AS undelivered,
              count(*) FILTER (WHERE t.opened_at IS NOT NULL OR t.status = 'read') AS opened, count(*) FILTER (WHERE t.clicked_at IS NOT NULL) AS clicked,
              count(*) FILTER (WHERE t.channel = 'voice' AND t.conversation_at IS NOT NULL) AS rpc, sum(COALESCE(t.units, 1)) AS units
         FROM contact_attempts t JOIN enrolments e ON e.id = t.enrolment_id
        WHERE e.campaign_id = $1 AND t.status_rank >= 1 GROUP BY 1, 2`,
      [CAMPAIGN],
    );
    await sql.query(
      `SELECT e.variant, count(*) AS enrolled, sum(e.balance_minor_at_start) AS outstanding, count(e.touched_at) AS touched,
              (SELECT COALESCE(sum(y.amount_minor), 0) FROM payments y JOIN enrolments e2 ON e2.account_id = y.account_id
                WHERE e2.campaign_id = $1 AND e2.variant = e.variant AND y.paid_at >= e2.enrolled_at) AS collected
         FROM enrolments e WHERE e.campaign_id = $1 GROUP BY 1`,
      [CAMPAIGN],
    );
    raw.push(performance.now() - t0);
    rawRows = funnel.rows;
  }

  // The two agree.
  const check = await report(["variant", "channel"]);
  // (Report rows are per currency too: summed here.)
  const mismatches = rawRows.filter((r) => {
    const rows = check.body.rows.filter((x) => x.variant === r.variant && x.channel === r.channel);
    const sum = (k: string) => rows.reduce((s, x) => s + Number(x[k]), 0);
    return rows.length === 0 || ["attempted", "delivered", "undelivered", "opened", "clicked", "rpc", "units"].some((k) => sum(k) !== Number(r[k]));
  });
  if (mismatches.length > 0) throw new Error(`rollup and raw aggregate differ: ${JSON.stringify(mismatches.slice(0, 3))}`);

  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
  const p50 = pct(latencies, 50);
  const p95 = pct(latencies, 95);
  const rawP50 = pct(raw, 50);
  const lines = [
    `# MIS report benchmark, ${startedAt.toISOString().slice(0, 10)}`,
    "",
    "```sh",
    `npm run bench:mis -- --accounts ${N.accounts} --attempts ${N.attempts} --callbacks ${N.callbacks} --requests ${N.requests}${values.reuse ? " --reuse" : ""}`,
    "```",
    "",
    `- Machine: ${machineLine()}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(", ")} when the requests ended`,
    `- Seeded: ${Number(counts.accounts).toLocaleString("en")} accounts, ${Number(counts.attempts).toLocaleString("en")} attempts, ${Number(counts.callbacks).toLocaleString("en")} callbacks, ${Number(counts.payments).toLocaleString("en")} payments; one campaign with champion, challenger and holdout over all accounts, 7 steps on 4 channels over 30 days`,
    `- Rollup: built by \`mis_rebuild()\` after the bulk load (the state the row triggers keep in production; test/mis.test.ts checks both against raw counts): ${Number(counts.facts).toLocaleString("en")} rows in campaign_daily_facts`,
    "- Latency: one request at a time from this process to the API in it, from sending the request to receiving the body's last byte (the JSON is parsed afterwards, outside the time)",
    "",
    ...(values.reuse
      ? ["Seeded by an earlier run with the same counts (`--reuse`)."]
      : ["| step | seconds |", "|---|---|", ...timings.map(([what, s]) => `| ${what} | ${s.toFixed(1)} |`)]),
    "",
    "| measure | value |",
    "|---|---|",
    `| campaign report over the API, ${N.requests} requests, \`by\` in turn ${GRAINS.map((g) => g.join(",")).join(" / ")} | p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms |`,
    ...[...byGrain].map(([by, ms]) => `| … by=${by} | p50 ${pct(ms, 50).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms |`),
    `| the same figures by a plain aggregate over the raw tables (by variant, channel; 3 runs) | p50 ${rawP50.toFixed(0)} ms |`,
    `| speed-up (raw p50 ÷ report p95) | ${(rawP50 / p95).toFixed(0)}× |`,
    "",
    `Targets: p95 < 200 ms (${p95 < 200 ? "met" : "missed"}); ≥ 20× faster than the raw aggregate (${rawP50 / p95 >= 20 ? "met" : "missed"}). The report's funnel by variant and channel equals the raw aggregate's.`,
  ];
  const text = lines.join("\n") + "\n";
  console.log(await writeReport(join(repoRoot, "bench", "results", `mis-${startedAt.toISOString().slice(0, 10)}.md`), text));
} finally {
  await cleanupAll();
}

async function seedAccounts(sql: pg.Client): Promise<void> {
  const strategy = {
    variants: [
      {
        name: "champion",
        weight: 45,
        strategy: { steps: STEPS.map(([id, channel]) => ({ id, kind: "contact", channel, template: "reminder" })), promiseGraceDays: 2 },
      },
      {
        name: "challenger",
        weight: 40,
        strategy: { steps: STEPS.map(([id, channel]) => ({ id, kind: "contact", channel, template: "reminder" })), promiseGraceDays: 2 },
      },
      { name: "holdout", weight: 15, holdout: true },
    ],
  };
  await sql.query(
    `INSERT INTO campaigns (id, name, strategy, status, launched_at, created_at, updated_at) VALUES ($1, 'bench', $2, 'running', '2026-06-01', '2026-06-01', now())`,
    [CAMPAIGN, JSON.stringify(strategy)],
  );
  await sql.query(
    `INSERT INTO agencies (id, name, endpoint, secret, api_key_hash, commission_bps) VALUES (gen_random_uuid(), 'Agency A', 'http://a', 's', 'ha', 1500), (gen_random_uuid(), 'Agency B', 'http://b', 's', 'hb', 2000)`,
  );
  // Markets and currencies in turn; DPD 0..120; balances 100.00..5,099.00.
  await sql.query(
    `INSERT INTO accounts (id, external_id, name, phone, email, locale, jurisdiction, product, currency, balance_minor, days_past_due, created_at, updated_at)
     SELECT ('00000000-0000-4000-a000-' || lpad(to_hex(i), 12, '0'))::uuid, 'B-' || i, 'Debtor ' || i, '+6281' || lpad(i::text, 9, '0'),
            'd' || i || '@example.com', 'en', (ARRAY['ID','IN','KE','US'])[1 + i % 4], 'card', (ARRAY['IDR','INR','KES','USD'])[1 + i % 4],
            10000 + (i::bigint * 7919) % 500000, (i * 31) % 121, '2026-05-01', now()
       FROM generate_series(1, $1) i`,
    [N.accounts],
  );
  await sql.query(
    `INSERT INTO enrolments (id, campaign_id, account_id, workflow_id, variant, status, days_past_due_at_start, balance_minor_at_start, enrolled_at)
     SELECT gen_random_uuid(), $1, a.id, 'acct-' || a.external_id,
            CASE WHEN h < 45 THEN 'champion' WHEN h < 85 THEN 'challenger' ELSE 'holdout' END, 'finished', a.days_past_due, a.balance_minor,
            '2026-06-01'::timestamptz + ((hashtext(a.external_id) & 1023) || ' seconds')::interval
       FROM accounts a CROSS JOIN LATERAL (SELECT abs(hashtext('v' || a.external_id)) % 100 AS h) v`,
    [CAMPAIGN],
  );
}

async function seedAttempts(sql: pg.Client): Promise<void> {
  // Contacted enrolments take the steps in order until the attempt count is reached.
  const stepsArray = `ARRAY[${STEPS.map(([id]) => `'${id}'`).join(",")}]`;
  const channelsArray = `ARRAY[${STEPS.map(([, c]) => `'${c}'`).join(",")}]`;
  await sql.query(
    `INSERT INTO contact_attempts (id, enrolment_id, account_id, step_id, channel, vendor, vendor_id, status, status_rank, error_code, created_at, sent_at,
                                   opened_at, clicked_at, replied_at, conversation_at, units, updated_at)
     SELECT gen_random_uuid(), e.id, e.account_id, (${stepsArray})[s], ch, CASE ch WHEN 'email' THEN 'sendgrid' ELSE 'twilio' END,
            'V' || n, st, CASE st WHEN 'read' THEN 6 WHEN 'sent' THEN 4 ELSE 5 END, CASE WHEN st = 'undelivered' AND ch = 'voice' THEN 'answering-machine' END,
            at, at, CASE WHEN ch = 'email' AND st = 'delivered' AND r < 40 THEN at + interval '1 hour' END,
            CASE WHEN st = 'delivered' AND r < 8 THEN at + interval '2 hours' END,
            CASE WHEN ch IN ('sms', 'whatsapp') AND st IN ('delivered', 'read') AND r >= 95 THEN at + interval '3 hours' END,
            CASE WHEN ch = 'voice' AND st = 'delivered' AND r < 50 THEN at + interval '1 minute' END,
            CASE ch WHEN 'voice' THEN CASE WHEN st = 'delivered' THEN 1 + r % 3 ELSE 0 END WHEN 'sms' THEN 1 + r % 2 ELSE 1 END, now()
       FROM (SELECT e.*, row_number() OVER (ORDER BY e.id) AS k FROM enrolments e WHERE e.variant <> 'holdout') e
       CROSS JOIN generate_series(1, ${STEPS.length}) s
       CROSS JOIN LATERAL (SELECT (e.k - 1) * ${STEPS.length} + s AS n, (${channelsArray})[s] AS ch, abs(hashtext(e.id::text || s)) % 100 AS r) x
       CROSS JOIN LATERAL (SELECT CASE WHEN x.r < 80 THEN CASE WHEN x.ch = 'whatsapp' AND x.r < 50 THEN 'read' ELSE 'delivered' END
                                       WHEN x.r < 90 THEN 'undelivered' WHEN x.r < 97 THEN 'failed' ELSE 'sent' END AS st,
                                  '2026-06-01'::timestamptz + ((s - 1) * 4 + (x.r % 4)) * interval '1 day' + (x.r * 7) * interval '1 minute' AS at) y
      WHERE x.n <= $1`,
    [N.attempts],
  );
}

async function seedCallbacks(sql: pg.Client): Promise<void> {
  // Vendor status callbacks, as stored raw: queued then the terminal status, and more for reads.
  const perAttempt = Math.ceil(N.callbacks / N.attempts);
  await sql.query(
    `INSERT INTO callbacks (id, vendor, event_id, kind, payload, received_at, applied_at)
     SELECT gen_random_uuid(), t.vendor, t.vendor_id || ':' || k, 'message-status',
            jsonb_build_object('MessageSid', t.vendor_id, 'MessageStatus', CASE k WHEN 1 THEN 'queued' WHEN 2 THEN t.status ELSE 'status-' || k END),
            t.sent_at + k * interval '1 second', t.sent_at + k * interval '1 second'
       FROM (SELECT vendor, vendor_id, status, sent_at, row_number() OVER () AS n FROM contact_attempts) t
       CROSS JOIN generate_series(1, ${perAttempt}) k
      WHERE (t.n - 1) * ${perAttempt} + k <= $1`,
    [N.callbacks],
  );
}

async function seedOutcomes(sql: pg.Client): Promise<void> {
  const payers = Math.max(1, Math.round(N.accounts / 20));
  // Placements for a few accounts, promises for some, and payments from one account in twenty.
  await sql.query(
    `INSERT INTO placements (id, agency_id, account_id, enrolment_id, step_id, amount_minor, currency, status, placed_at)
     SELECT gen_random_uuid(), (SELECT id FROM agencies ORDER BY name LIMIT 1 OFFSET (hashtext(e.id::text) & 1)), e.account_id, e.id, 'place', a.balance_minor, a.currency,
            'acknowledged', '2026-06-20'
       FROM enrolments e JOIN accounts a ON a.id = e.account_id WHERE e.variant <> 'holdout' AND abs(hashtext(e.id::text)) % 100 = 0`,
  );
  await sql.query(
    `INSERT INTO promises (id, account_id, enrolment_id, amount_minor, currency, due_date, status, source, created_at)
     SELECT gen_random_uuid(), a.id, e.id, a.balance_minor / 2, a.currency, '2026-06-25', CASE WHEN abs(hashtext(a.id::text)) % 3 = 0 THEN 'broken' ELSE 'kept' END,
            'ops', '2026-06-10'
       FROM accounts a JOIN enrolments e ON e.account_id = a.id WHERE abs(hashtext(a.id::text)) % 50 = 1`,
  );
  await sql.query(
    `INSERT INTO payments (id, reference, account_id, amount_minor, currency, paid_at)
     SELECT gen_random_uuid(), 'P-' || a.external_id, a.id, a.balance_minor / 3, a.currency, '2026-06-01'::timestamptz + (abs(hashtext(a.id::text)) % 40) * interval '1 day'
       FROM accounts a WHERE abs(hashtext('p' || a.id::text)) % $1 = 0`,
    [Math.max(1, Math.round(N.accounts / payers))],
  );
}
