// The callback benchmark's side of PostgreSQL: seeding attempts in bulk SQL, PostgreSQL's
// own counters around a phase, and the check afterwards that every event was stored and
// applied exactly once and that every attempt ended `delivered`.
import type pg from "pg";
import { eventId, type PlannedCallback } from "./callbacks-plan.ts";

/** The benchmark's own connections say so, and are left out of pg_stat_activity samples. */
export const BENCH_APPLICATION_NAME = "tagih-bench-callbacks";

/** The campaign all seeded attempts belong to. */
export async function createCampaign(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO campaigns (id, name, strategy, status, launched_at, updated_at)
     VALUES (gen_random_uuid(), 'bench: Twilio status callbacks', $1::jsonb, 'running', now(), now())
     RETURNING id`,
    [JSON.stringify({ steps: [{ id: "sms", kind: "contact", channel: "sms", template: "reminder", waitForOutcome: "P1D" }] })],
  );
  return rows[0]!.id;
}

/**
 * `attempts` accounts, each enrolled in the campaign with one SMS attempt that Twilio
 * accepted (`queued`, message SID `'SM' || md5(prefix || ':' || i)`, as `messageSid` builds
 * it), a statement per SEED_BATCH. The enrolments' workflow ids name no workflow: the
 * webhook's signal then meets WorkflowNotFound, which it answers 204.
 */
export async function seedAttempts(pool: pg.Pool, campaignId: string, prefix: string, attempts: number): Promise<void> {
  for (let from = 0; from < attempts; from += SEED_BATCH) await seedBatch(pool, campaignId, prefix, from, Math.min(attempts, from + SEED_BATCH));
}

// Every enrolment adds to one of the campaign's few report rows (prisma/routines/mis.sql), and
// a row updated n times in one statement costs n² (each update walks the versions before it):
// 27,000 in one statement took four minutes.
const SEED_BATCH = 1000;

async function seedBatch(pool: pg.Pool, campaignId: string, prefix: string, from: number, to: number): Promise<void> {
  await pool.query(
    `WITH src AS (
       SELECT i, gen_random_uuid() AS account_id, gen_random_uuid() AS enrolment_id FROM generate_series($4::int, $3::int - 1) AS i),
     accounts_in AS (
       INSERT INTO accounts (id, external_id, name, phone, time_zone, jurisdiction, product, currency, balance_minor, days_past_due, updated_at)
       SELECT account_id, $2 || '-' || i, 'Bench Debtor ' || i, '+1555' || lpad((i % 10000000)::text, 7, '0'), 'America/New_York', 'US', 'bench-callbacks',
              'USD', 150000, 30, now()
         FROM src),
     enrolments_in AS (
       INSERT INTO enrolments (id, campaign_id, account_id, workflow_id, status)
       SELECT enrolment_id, $1::uuid, account_id, 'bench-callbacks-no-such-workflow-' || $2 || '-' || i, 'running' FROM src)
     INSERT INTO contact_attempts (id, enrolment_id, account_id, step_id, channel, vendor, vendor_id, status, status_rank, sent_at, updated_at)
     SELECT gen_random_uuid(), enrolment_id, account_id, 'sms', 'sms', 'twilio', 'SM' || md5($2 || ':' || i), 'queued', 2, now(), now() FROM src`,
    [campaignId, prefix, to, from],
  );
}

export async function analyze(pool: pg.Pool): Promise<void> {
  await pool.query("ANALYZE accounts, enrolments, contact_attempts, callbacks");
}

export interface PgCounters {
  commits: number;
  rollbacks: number;
  inserted: number;
  updated: number;
  walRecords: number;
  walBytes: number;
  walWrites: number;
  walSyncs: number;
}

/** Cumulative counters of this database and the WAL (read a second after the load, as backends report them about once a second). */
export async function pgCounters(pool: pg.Pool): Promise<PgCounters> {
  const db = await pool.query<{ xact_commit: string; xact_rollback: string; tup_inserted: string; tup_updated: string }>(
    "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated FROM pg_stat_database WHERE datname = current_database()",
  );
  const wal = await pool.query<{ wal_records: string; wal_bytes: string; wal_write: string; wal_sync: string }>(
    "SELECT wal_records, wal_bytes, wal_write, wal_sync FROM pg_stat_wal",
  );
  const d = db.rows[0]!;
  const w = wal.rows[0]!;
  return {
    commits: Number(d.xact_commit),
    rollbacks: Number(d.xact_rollback),
    inserted: Number(d.tup_inserted),
    updated: Number(d.tup_updated),
    walRecords: Number(w.wal_records),
    walBytes: Number(w.wal_bytes),
    walWrites: Number(w.wal_write),
    walSyncs: Number(w.wal_sync),
  };
}

export function counterDelta(before: PgCounters, after: PgCounters): PgCounters {
  const out = {} as PgCounters;
  for (const key of Object.keys(before) as (keyof PgCounters)[]) out[key] = after[key] - before[key];
  return out;
}

/** What was fired: the plan and, per planned request, the HTTP status it got (0: none). */
export interface FiredBatch {
  plan: PlannedCallback[];
  statuses: number[];
}

export interface CheckResult {
  /** Distinct (MessageSid, MessageStatus) events fired. */
  events: number;
  /** Events with at least one 2xx answer. */
  acknowledged: number;
  rows: number;
  /** Acknowledged events without a row: lost. */
  lost: string[];
  /** Events never acknowledged and not stored (Twilio would redeliver them). */
  unacknowledgedMissing: number;
  /** Events stored more than once. */
  duplicateRows: string[];
  /** Stored events whose `applied_at` is empty. */
  unapplied: string[];
  /** Rows that no fired request explains. */
  unexpected: string[];
  /** Attempts that were sent callbacks (more may be seeded). */
  attempts: number;
  /** Their final status → count. */
  finalStatuses: Record<string, number>;
  /** Attempts whose `delivered` was acknowledged but whose status is not `delivered` (moved backwards, or never applied). */
  notDeliveredDespiteAck: string[];
  /** Attempts whose `delivered` never got a 2xx answer (no verdict on them). */
  deliveredNeverAcknowledged: number;
  passed: boolean;
}

export async function checkDatabase(pool: pg.Pool, batches: FiredBatch[]): Promise<CheckResult> {
  const fired = new Map<string, { acknowledged: boolean }>();
  const attempts = new Map<string, { deliveredAcknowledged: boolean }>();
  for (const { plan, statuses } of batches) {
    plan.forEach((c, i) => {
      const id = eventId(c);
      const ok = statuses[i]! >= 200 && statuses[i]! < 300;
      const event = fired.get(id) ?? { acknowledged: false };
      event.acknowledged ||= ok;
      fired.set(id, event);
      const attempt = attempts.get(c.sid) ?? { deliveredAcknowledged: false };
      if (c.status === "delivered") attempt.deliveredAcknowledged ||= ok;
      attempts.set(c.sid, attempt);
    });
  }

  const stored = await pool.query<{ event_id: string; n: number; applied: number }>(
    `SELECT event_id, count(*)::int AS n, count(applied_at)::int AS applied FROM callbacks
      WHERE vendor = 'twilio' AND kind = 'message-status' GROUP BY event_id`,
  );
  const rows = new Map(stored.rows.map((r) => [r.event_id, r]));
  const lost: string[] = [];
  let unacknowledgedMissing = 0;
  for (const [id, event] of fired) {
    if (rows.has(id)) continue;
    if (event.acknowledged) lost.push(id);
    else unacknowledgedMissing++;
  }
  const duplicateRows = stored.rows.filter((r) => r.n > 1).map((r) => r.event_id);
  const unapplied = stored.rows.filter((r) => r.applied < r.n).map((r) => r.event_id);
  const unexpected = stored.rows.filter((r) => !fired.has(r.event_id)).map((r) => r.event_id);

  const final = await pool.query<{ vendor_id: string; status: string }>(`SELECT vendor_id, status FROM contact_attempts WHERE vendor = 'twilio'`);
  const finalStatuses: Record<string, number> = {};
  const statusOf = new Map<string, string>();
  for (const r of final.rows) {
    if (!attempts.has(r.vendor_id)) continue;
    statusOf.set(r.vendor_id, r.status);
    finalStatuses[r.status] = (finalStatuses[r.status] ?? 0) + 1;
  }
  const notDeliveredDespiteAck: string[] = [];
  let deliveredNeverAcknowledged = 0;
  for (const [sid, attempt] of attempts) {
    if (!attempt.deliveredAcknowledged) deliveredNeverAcknowledged++;
    else if (statusOf.get(sid) !== "delivered") notDeliveredDespiteAck.push(`${sid} (${statusOf.get(sid) ?? "no attempt"})`);
  }
  const allDelivered = (finalStatuses.delivered ?? 0) === attempts.size;
  return {
    events: fired.size,
    acknowledged: [...fired.values()].filter((e) => e.acknowledged).length,
    rows: stored.rows.reduce((sum, r) => sum + r.n, 0),
    lost,
    unacknowledgedMissing,
    duplicateRows,
    unapplied,
    unexpected,
    attempts: attempts.size,
    finalStatuses,
    notDeliveredDespiteAck,
    deliveredNeverAcknowledged,
    passed:
      lost.length === 0 &&
      duplicateRows.length === 0 &&
      unapplied.length === 0 &&
      unexpected.length === 0 &&
      notDeliveredDespiteAck.length === 0 &&
      allDelivered,
  };
}

export interface ActivitySummary {
  samples: number;
  /** Connections of Tagih's pool open, and how many of them were running a statement, on average. */
  meanConnections: number;
  meanActive: number;
  maxActive: number;
  /** What the active backends were doing: "CPU" (no wait event) or `type:event`, share of active backend samples. */
  waits: { wait: string; share: number }[];
}

/** Samples pg_stat_activity of this database every `intervalMs` until stopped. */
export function sampleActivity(pool: pg.Pool, intervalMs = 250): { stop(): Promise<ActivitySummary> } {
  let running = true;
  let samples = 0;
  let connections = 0;
  let active = 0;
  let maxActive = 0;
  const waits = new Map<string, number>();
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const { rows } = await pool.query<{ state: string | null; wait: string; n: number }>(
        `SELECT state, coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait, count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND backend_type = 'client backend' AND application_name <> $1 GROUP BY 1, 2`,
        [BENCH_APPLICATION_NAME],
      );
      samples++;
      let activeNow = 0;
      for (const r of rows) {
        connections += r.n;
        if (r.state !== "active") continue;
        activeNow += r.n;
        waits.set(r.wait, (waits.get(r.wait) ?? 0) + r.n);
      }
      active += activeNow;
      maxActive = Math.max(maxActive, activeNow);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (performance.now() - started))));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return {
        samples,
        meanConnections: samples ? connections / samples : 0,
        meanActive: samples ? active / samples : 0,
        maxActive,
        waits: [...waits].sort((a, b) => b[1] - a[1]).map(([wait, n]) => ({ wait, share: active ? n / active : 0 })),
      };
    },
  };
}
