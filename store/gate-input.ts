import type { Channel } from "../domain/channel.ts";
import type { ContactHistoryEntry, GateInput, Hold } from "../domain/compliance/index.ts";
import { Prisma } from "../generated/prisma/client.ts";

type Reader = Pick<Prisma.TransactionClient, "$queryRaw">;

// The longest rolling window any policy counts over (US 7 consecutive days, cool-off 7),
// with room to spare for zones far from UTC.
const HISTORY_DAYS = 10;

interface GateRow {
  account_id: string;
  jurisdiction: string;
  time_zone: string | null;
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
 * every campaign: attempts, conversations, opt-outs, consent and active holds.
 * @example evaluateContact(await gateInputFor(db, accountId, "sms", new Date()))
 */
export async function gateInputFor(db: Reader, accountId: string, channel: Channel, at: Date): Promise<GateInput | undefined> {
  const [row] = await db.$queryRaw<GateRow[]>`${gateSelect(at)} WHERE a.id = ${accountId}::uuid`;
  return row && gateInput(row, channel, at);
}

/**
 * The gate's input for an enrolment's next contact, read with its debtor's row locked until
 * the transaction ends (so two workflows of any campaigns racing for the debtor's last slot
 * take turns), together with the attempt a retry already reserved for this step and channel.
 * The lock is its own statement: a statement reads the history as it was when it began, so
 * one that waited for the lock would miss the attempt its rival just recorded.
 * @example const found = await lockedGateInputFor(tx, { enrolmentId, stepId, channel }, new Date())
 */
export async function lockedGateInputFor(
  tx: Reader,
  { enrolmentId, stepId, channel }: { enrolmentId: string; stepId: string; channel: Channel },
  at: Date,
): Promise<{ accountId: string; reservedAttemptId: string | null; input: GateInput } | undefined> {
  const [locked] = await tx.$queryRaw<{ id: string }[]>`
    SELECT a.id::text FROM accounts a WHERE a.id = (SELECT e.account_id FROM enrolments e WHERE e.id = ${enrolmentId}::uuid) FOR UPDATE`;
  if (!locked) return undefined;
  const [row] = await tx.$queryRaw<(GateRow & { reserved_attempt_id: string | null })[]>`
    ${gateSelect(at, Prisma.sql`(SELECT r.id::text FROM contact_attempts r WHERE r.enrolment_id = ${enrolmentId}::uuid AND r.step_id = ${stepId} AND r.channel = ${channel}) AS reserved_attempt_id`)}
     WHERE a.id = ${locked.id}::uuid`;
  return row && { accountId: row.account_id, reservedAttemptId: row.reserved_attempt_id, input: gateInput(row, channel, at) };
}

function gateSelect(at: Date, extra?: Prisma.Sql): Prisma.Sql {
  const since = new Date(at.getTime() - HISTORY_DAYS * 24 * 3600 * 1000);
  return Prisma.sql`
    SELECT a.id::text AS account_id, a.jurisdiction, a.time_zone, a.product, a.consent_whatsapp, a.consent_autodialed,
           COALESCE((SELECT json_agg(json_build_array(c.channel, c.created_at, c.conversation_at)) FROM contact_attempts c
                      WHERE c.account_id = a.id AND (c.created_at >= ${since} OR c.conversation_at >= ${since})), '[]') AS attempts,
           ARRAY(SELECT o.channel FROM opt_outs o WHERE o.account_id = a.id) AS opt_outs,
           ARRAY(SELECT DISTINCT h.kind FROM account_holds h WHERE h.account_id = a.id AND h.released_at IS NULL) AS holds
           ${extra ? Prisma.sql`, ${extra}` : Prisma.empty}
      FROM accounts a`;
}

function gateInput(row: GateRow, channel: Channel, at: Date): GateInput {
  // The gate counts every entry as one contact: a call that became a conversation is one
  // entry, of kind conversation.
  const history: ContactHistoryEntry[] = row.attempts.map(([attemptChannel, createdAt, conversationAt]) =>
    conversationAt
      ? { channel: attemptChannel as Channel, at: new Date(conversationAt).toISOString(), kind: "conversation" }
      : { channel: attemptChannel as Channel, at: new Date(createdAt).toISOString(), kind: "attempt" },
  );
  return {
    jurisdiction: row.jurisdiction,
    ...(row.time_zone ? { timeZone: row.time_zone } : {}),
    channel,
    at: at.toISOString(),
    history,
    optOuts: row.opt_outs as Channel[],
    consent: { whatsapp: row.consent_whatsapp, autodialedCalls: row.consent_autodialed },
    holds: row.holds as Hold[],
    product: row.product,
  };
}
