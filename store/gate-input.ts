import type pg from "pg";
import type { Channel } from "../domain/channel.ts";
import { debtorZones, type ContactHistoryEntry, type GateInput, type Hold } from "../domain/compliance/index.ts";

/** A node-postgres pool or one of its connections (inside a transaction). */
type Queryable = Pick<pg.ClientBase, "query">;

// The longest rolling window any policy counts over (US 7 consecutive days, cool-off 7),
// with room to spare for zones far from UTC.
const HISTORY_DAYS = 10;

interface GateRow {
  account_id: string;
  jurisdiction: string;
  time_zone: string | null;
  phone: string | null;
  whatsapp: string | null;
  product: string;
  consent_whatsapp: boolean;
  consent_autodialed: boolean;
  /** [channel, created_at, conversation_at] of each attempt in the window. */
  attempts: [string, string, string | null][];
  opt_outs: string[];
  holds: string[];
}

/**
 * Everything the compliance gate needs about a stored debtor, from its real history across
 * every campaign and every account sharing its phone: attempts, conversations; and the
 * account's opt-outs, consent and active holds.
 * @example evaluateContact(await gateInputFor(sql, accountId, "sms", new Date()))
 */
export async function gateInputFor(sql: Queryable, accountId: string, channel: Channel, at: Date): Promise<GateInput | undefined> {
  const { rows } = await sql.query<GateRow>(`${gateSelect()} WHERE a.id = $2::uuid`, [historySince(at), accountId]);
  return rows[0] && gateInput(rows[0], channel, at);
}

/**
 * The gate's input for an enrolment's next contact, read with its account's row and its
 * debtor's phone locked until the transaction ends (so two workflows of any campaigns and
 * accounts racing for the debtor's last slot take turns), together with the attempt a retry
 * already reserved for this visit of the step and this channel, and where the enrolment and its campaign stand (read after the lock).
 * The lock is its own statement: a statement reads the history as it was when it began, so
 * one that waited for the lock would miss the attempt its rival just recorded.
 * @example const found = await inTransaction(sql, (tx) => lockedGateInputFor(tx, { enrolmentId, stepId, visit: 1, channel }, new Date()))
 */
export async function lockedGateInputFor(
  tx: Queryable,
  { enrolmentId, stepId, visit, channel }: { enrolmentId: string; stepId: string; visit: number; channel: Channel },
  at: Date,
): Promise<{ accountId: string; reservedAttemptId: string | null; enrolmentStatus: string; campaignStatus: string; input: GateInput } | undefined> {
  // The phone is locked too, as the accounts sharing it count against one debtor's caps. An
  // advisory lock, taken before the row's by this statement alone: no other writer holding an
  // account's row ever waits for it, so locking them never deadlocks.
  const locked = await tx.query<{ id: string }>(
    `SELECT a.id::text, pg_advisory_xact_lock(hashtextextended('debtor:' || a.phone, 0)) FROM accounts a
      WHERE a.id = (SELECT e.account_id FROM enrolments e WHERE e.id = $1::uuid) FOR UPDATE`,
    [enrolmentId],
  );
  const accountId = locked.rows[0]?.id;
  if (!accountId) return undefined;
  const { rows } = await tx.query<GateRow & { reserved_attempt_id: string | null; enrolment_status: string; campaign_status: string }>(
    `${gateSelect(
      `, (SELECT r.id::text FROM contact_attempts r WHERE r.enrolment_id = $3::uuid AND r.step_id = $4 AND r.channel = $5 AND r.visit = $6) AS reserved_attempt_id,
         en.status::text AS enrolment_status, ca.status::text AS campaign_status`,
    )}
      JOIN enrolments en ON en.id = $3::uuid JOIN campaigns ca ON ca.id = en.campaign_id
     WHERE a.id = $2::uuid`,
    [historySince(at), accountId, enrolmentId, stepId, channel, visit],
  );
  const row = rows[0];
  return (
    row && {
      accountId: row.account_id,
      reservedAttemptId: row.reserved_attempt_id,
      enrolmentStatus: row.enrolment_status,
      campaignStatus: row.campaign_status,
      input: gateInput(row, channel, at),
    }
  );
}

const historySince = (at: Date) => new Date(at.getTime() - HISTORY_DAYS * 24 * 3600 * 1000);

/**
 * Accounts `d` of the debtor of account `a`: itself, and the accounts sharing its phone (one
 * person with a card and a loan). Their contacts count against one debtor's caps and cool-offs.
 */
const SAME_DEBTOR = "(d.id = a.id OR d.phone = a.phone)";

/** The gate's columns of accounts `a`, then `extraColumns`; $1 is the start of the history window. */
const gateSelect = (extraColumns = "") => `
  SELECT a.id::text AS account_id, a.jurisdiction, a.time_zone, a.phone, a.whatsapp, a.product, a.consent_whatsapp, a.consent_autodialed,
         COALESCE((SELECT json_agg(json_build_array(c.channel, c.created_at, c.conversation_at)) FROM accounts d JOIN contact_attempts c ON c.account_id = d.id
                    WHERE ${SAME_DEBTOR} AND (c.created_at >= $1 OR c.conversation_at >= $1)), '[]') AS attempts,
         ARRAY(SELECT o.channel::text FROM opt_outs o WHERE o.account_id = a.id) AS opt_outs,
         ARRAY(SELECT DISTINCT h.kind::text FROM account_holds h WHERE h.account_id = a.id AND h.released_at IS NULL) AS holds
         ${extraColumns}
    FROM accounts a`;

function gateInput(row: GateRow, channel: Channel, at: Date): GateInput {
  // The gate counts every entry as one contact: a call that became a conversation is one
  // entry, of kind conversation.
  const history: ContactHistoryEntry[] = row.attempts.map(([attemptChannel, createdAt, conversationAt]) =>
    conversationAt
      ? { channel: attemptChannel as Channel, at: new Date(conversationAt).toISOString(), kind: "conversation" }
      : { channel: attemptChannel as Channel, at: new Date(createdAt).toISOString(), kind: "attempt" },
  );
  const timeZone = debtorZones({ timeZone: row.time_zone, phones: [row.phone, row.whatsapp] });
  return {
    jurisdiction: row.jurisdiction,
    ...(timeZone ? { timeZone } : {}),
    channel,
    at: at.toISOString(),
    history,
    optOuts: row.opt_outs as Channel[],
    consent: { whatsapp: row.consent_whatsapp, autodialedCalls: row.consent_autodialed },
    holds: row.holds as Hold[],
    product: row.product,
  };
}
