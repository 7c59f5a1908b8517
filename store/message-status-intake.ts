import { outcomeOf, statusRank } from "../domain/attempt-status.ts";
import { DatabaseError, escapeLiteral, type Pool, type QueryResult } from "pg";
import type { Prisma } from "../generated/prisma/client.ts";
import type { Database } from "../runtime/database.ts";
import type { ContactOutcomeSignal } from "../workflows/account-messages.ts";
import type { AdvancedAttempt } from "./attempts.ts";
import { retryOnDeadlock } from "./deadlocks.ts";
import { applyTwilioMessageStatus, type TwilioMessageStatus } from "./twilio-status.ts";

/** A contactOutcome signal owed to an account workflow, stored with its callback until sent. */
export interface OwedSignal extends ContactOutcomeSignal {
  workflowId: string;
}

export interface StoredMessageStatus {
  callbackId: string;
  /** False when this delivery repeats an event stored before. */
  stored: boolean;
  /** The signal this event owes, when it moved its attempt to an outcome. */
  signal: OwedSignal | undefined;
}

/** Events per statement: bounds its parameters and how long one statement holds its locks. */
const MAX_BATCH = 500;
/**
 * Statements start at least this far apart. A statement has a fixed cost (planning, the
 * rollup trigger, the commit) of about as much as ten events; under load, waiting this long
 * gathers larger batches, and a lone callback after a quiet spell goes at once. At 2,000
 * callbacks/s, 5 ms against 10 cost PostgreSQL ~0.03 ms more a callback (more, smaller
 * commits) and took p99 from 58–59 ms to 46–49 (bench/results/callbacks-2026-12-08-gap*.md).
 */
const MIN_GAP_MS = 5;

interface Pending {
  event: TwilioMessageStatus;
  payload: Record<string, string | string[]>;
  waiters: { resolve: (result: StoredMessageStatus) => void; reject: (error: unknown) => void }[];
}

export interface MessageStatusIntake {
  /** Stores and applies one Twilio message status callback; resolves once it is committed. */
  submit(event: TwilioMessageStatus, payload: Record<string, string | string[]>): Promise<StoredMessageStatus>;
}

/**
 * Twilio message status callbacks are the bulk of our inbound traffic (two or more per
 * message, at the vendor's pace), so they are written in batches: requests that arrive
 * while a statement runs wait for the next one, which stores all their raw events
 * once (deduplicated on `<MessageSid>:<MessageStatus>`), moves their attempts forward and
 * records the outcome signals owed, in one statement. Under light load a batch is one
 * callback and adds no delay; under heavy load the per-statement cost is shared (statements
 * start at least MIN_GAP_MS apart).
 * One statement runs at a time: the report rollup's triggers make every statement touch
 * shared rows, and concurrent batches would deadlock on them. A statement PostgreSQL still
 * picks as a deadlock victim (against another writer) runs again: it is all or nothing.
 */
export function createMessageStatusIntake(db: Database, sql: Pool): MessageStatusIntake {
  const queue = new Map<string, Pending>();
  let flushing = false;
  let lastStart = -Infinity;

  async function flush(): Promise<void> {
    while (queue.size > 0) {
      const wait = lastStart + MIN_GAP_MS - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      lastStart = performance.now();
      const batch = [...queue.entries()].slice(0, MAX_BATCH);
      for (const [eventId] of batch) queue.delete(eventId);
      await commit(batch);
    }
    flushing = false;
  }

  /**
   * Stores a batch and answers its senders. The statement is all or nothing, and when
   * PostgreSQL refuses it for a value (one it cannot index, cast or hold) the fault is one
   * event's: the batch is halved until that event fails alone, so it never costs the
   * callbacks it joined. Any other failure is the statement's, and every sender hears it.
   */
  async function commit(batch: [string, Pending][]): Promise<void> {
    let results: Awaited<ReturnType<typeof storeBatch>>;
    try {
      results = await retryOnDeadlock(() => storeBatch(db, sql, batch));
    } catch (error) {
      if (batch.length > 1 && isValueError(error)) {
        const half = Math.ceil(batch.length / 2);
        await commit(batch.slice(0, half));
        await commit(batch.slice(half));
        return;
      }
      // The vendor redelivers: the statement kept nothing.
      for (const [, pending] of batch) fail(pending, error);
      return;
    }
    for (const [eventId, pending] of batch) {
      const result = results.get(eventId);
      try {
        if (!result) throw new Error(`callback twilio ${eventId} was neither stored nor found`);
        await applyLateKnownAttempt(db, pending.event, result);
        // A copy that arrived while the first was queued repeats it: the signal is owed once.
        pending.waiters.forEach((waiter, i) => waiter.resolve(i === 0 ? result : { ...result, stored: false, signal: undefined }));
      } catch (error) {
        // The event is stored; the vendor's redelivery finds it.
        fail(pending, error);
      }
    }
  }

  return {
    submit(event, payload) {
      const eventId = `${event.MessageSid}:${event.MessageStatus}`;
      return new Promise((resolve, reject) => {
        const pending = queue.get(eventId);
        // A duplicate delivery while the first is still queued shares its result.
        if (pending) pending.waiters.push({ resolve, reject });
        else queue.set(eventId, { event, payload, waiters: [{ resolve, reject }] });
        // Let the requests already parsed in this turn of the event loop join the batch.
        if (!flushing) {
          flushing = true;
          setImmediate(() => void flush());
        }
      });
    },
  };
}

/**
 * One statement for a batch: the attempts move to the highest-ranked status the batch
 * reports for them (only forward: a concurrent writer is re-checked by PostgreSQL's
 * row-level recheck of `status_rank <`), and each new event is stored once with `applied_at`
 * set when its attempt is known (else it waits for the attempt to learn its message SID, as
 * `applyPendingTwilioStatuses` does) and the signal it owes when it moved its attempt to an
 * outcome. A repeated event finds its stored row instead.
 */
async function storeBatch(db: Database, sql: Pool, batch: [string, Pending][]): Promise<Map<string, StoredMessageStatus & { applied: boolean }>> {
  const events = batch.map(([eventId, { event, payload }]) => ({
    event_id: eventId,
    payload,
    vendor_id: event.MessageSid,
    status: event.MessageStatus,
    rank: statusRank(event.MessageStatus),
    error_code: event.ErrorCode || null,
    outcome: outcomeOf(event.MessageStatus) ?? null,
  }));
  // node-postgres directly, the batch as one JSON document: no per-call compile in Prisma, no
  // array literals to escape element by element, and each payload parsed once, as jsonb.
  // Planned on every call (unnamed): a plan cached while the tables were small kept scanning
  // them whole once they had grown. Sent as one simple-protocol message, so the setting that
  // lets the rollup sum the batch per cell (prisma/routines/mis.sql) and the statement share a
  // transaction; the JSON goes in as a quoted literal.
  type Row = { event_id: string; id: string; stored: boolean; applied: boolean; signal: OwedSignal | null };
  const replies = (await sql.query(`SELECT set_config('tagih.mis_per_statement', 'on', true);
    WITH incoming AS (
      SELECT * FROM jsonb_to_recordset(${escapeLiteral(JSON.stringify(events))}::jsonb)
        AS i(event_id text, payload jsonb, vendor_id text, status text, rank int, error_code text, outcome text)),
    latest AS (
      SELECT DISTINCT ON (vendor_id) vendor_id, status, rank, error_code
        FROM incoming WHERE rank >= 0 ORDER BY vendor_id, rank DESC),
    moved AS (
      UPDATE contact_attempts a
         -- A read receipt proves delivery: the code of a failure reported before it no longer holds.
         SET status = l.status, status_rank = l.rank, error_code = CASE WHEN l.status = 'read' THEN l.error_code ELSE COALESCE(l.error_code, a.error_code) END,
             updated_at = now()
        FROM latest l
       WHERE a.vendor = 'twilio' AND a.vendor_id = l.vendor_id AND a.status_rank < l.rank
      RETURNING a.id, a.vendor_id, a.status, a.enrolment_id),
    inserted AS (
      INSERT INTO callbacks (id, vendor, event_id, kind, payload, applied_at, signal)
      SELECT gen_random_uuid(), 'twilio', i.event_id, 'message-status', i.payload,
             CASE WHEN i.rank < 0 OR k.known THEN now() END,
             CASE WHEN i.outcome IS NOT NULL AND m.id IS NOT NULL
                  THEN jsonb_build_object('workflowId', e.workflow_id, 'attemptId', m.id, 'status', i.status, 'outcome', i.outcome) END
        FROM incoming i
        -- A lookup by index per event: the planner, guessing a hundred events, would otherwise
        -- hash the whole table of attempts.
        LEFT JOIN LATERAL (SELECT true AS known FROM contact_attempts k WHERE k.vendor = 'twilio' AND k.vendor_id = i.vendor_id LIMIT 1) k ON true
        LEFT JOIN moved m ON m.vendor_id = i.vendor_id AND m.status = i.status
        LEFT JOIN enrolments e ON e.id = m.enrolment_id
      ON CONFLICT (vendor, event_id) DO NOTHING
      RETURNING event_id, id, applied_at IS NOT NULL AS applied, signal),
    -- A redelivery of an event still pending applies it once its attempt is known, and owes
    -- the signal its move owes: Twilio redelivers only what it was not answered for.
    revived AS (
      UPDATE callbacks c
         SET applied_at = now(),
             signal = CASE WHEN i.outcome IS NOT NULL AND m.id IS NOT NULL
                           THEN jsonb_build_object('workflowId', e.workflow_id, 'attemptId', m.id, 'status', i.status, 'outcome', i.outcome) END
        FROM incoming i
        LEFT JOIN moved m ON m.vendor_id = i.vendor_id AND m.status = i.status
        LEFT JOIN enrolments e ON e.id = m.enrolment_id
       WHERE c.vendor = 'twilio' AND c.event_id = i.event_id AND c.applied_at IS NULL
         AND (i.rank < 0 OR EXISTS (SELECT FROM contact_attempts k WHERE k.vendor = 'twilio' AND k.vendor_id = i.vendor_id))
      RETURNING c.event_id, c.id, c.signal)
    SELECT event_id, id, true AS stored, applied, signal FROM inserted
    UNION ALL
    SELECT event_id, id, false, true, signal FROM revived
    UNION ALL
    -- The statement's snapshot predates its own inserts: this finds only earlier copies.
    SELECT c.event_id, c.id, false, true, NULL FROM callbacks c
     WHERE c.vendor = 'twilio' AND c.event_id = ANY(ARRAY(SELECT event_id FROM incoming))
       AND c.event_id NOT IN (SELECT event_id FROM revived)`)) as unknown as [QueryResult, QueryResult<Row>];
  const rows = replies[1].rows;
  const results = new Map(rows.map((r) => [r.event_id, { callbackId: r.id, stored: r.stored, applied: r.applied, signal: r.signal ?? undefined }]));
  // A concurrent copy of an event (another API process) may commit between our insert,
  // which then does nothing, and the select, whose snapshot predates it: read those again.
  const missing = events.filter((e) => !results.has(e.event_id)).map((e) => e.event_id);
  if (missing.length > 0) {
    for (const row of await db.callback.findMany({ where: { vendor: "twilio", eventId: { in: missing } }, select: { id: true, eventId: true } })) {
      results.set(row.eventId, { callbackId: row.id, stored: false, applied: true, signal: undefined });
    }
  }
  return results;
}

/**
 * An event stored as pending (its attempt did not know the message SID in the statement's
 * snapshot) is applied again now that it is committed: the send activity may have stored
 * the SID and looked for pending events in between, before this one was visible to it.
 * Whichever of the two moves the attempt first owns the outcome; here that means the signal.
 */
async function applyLateKnownAttempt(db: Database, event: TwilioMessageStatus, result: StoredMessageStatus & { applied: boolean }) {
  if (!result.stored || result.applied) return;
  result.signal = await applyOwing(db, result.callbackId, (tx) => applyTwilioMessageStatus(tx, result.callbackId, event));
}

/**
 * Applies a stored callback with `apply` and records on it the contactOutcome signal its move
 * owes (none when it moved no attempt to an outcome), for the outcome-signal sweeper to send
 * should the sender stop. One transaction: a stop between the move and the record would leave
 * the attempt moved, the callback applied and its workflow never told.
 */
export async function applyOwing(
  db: Database,
  callbackId: string,
  apply: (tx: Prisma.TransactionClient) => Promise<AdvancedAttempt | undefined>,
): Promise<OwedSignal | undefined> {
  return db.$transaction(async (tx) => oweSignal(tx, callbackId, await apply(tx)));
}

async function oweSignal(db: Prisma.TransactionClient, callbackId: string, moved: AdvancedAttempt | undefined): Promise<OwedSignal | undefined> {
  if (!moved?.outcome) return undefined;
  const signal: OwedSignal = { workflowId: moved.workflowId, attemptId: moved.attemptId, status: moved.status, outcome: moved.outcome };
  await db.callback.update({ where: { id: callbackId }, data: { signal: { ...signal } } });
  return signal;
}

/** Rejects an event's senders with an error naming it; PostgreSQL's own is its cause. */
function fail({ event, waiters }: Pending, error: unknown) {
  const failure = new Error(`the Twilio status callback of ${event.MessageSid} failed`, { cause: error });
  for (const waiter of waiters) waiter.reject(failure);
}

/**
 * Whether PostgreSQL refused a statement for a value in it: a data exception (SQLSTATE class
 * 22: a cast, an encoding), an integrity violation (23) or a limit (54: an index entry too
 * large). Such a statement fails again for as long as that value is in it.
 */
function isValueError(error: unknown): boolean {
  return error instanceof DatabaseError && ["22", "23", "54"].includes(error.code?.slice(0, 2) ?? "");
}
