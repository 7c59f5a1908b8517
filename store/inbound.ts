import type { Account } from "../generated/prisma/client.ts";
import type { Database } from "../runtime/database.ts";
import { DEBTOR_ACTOR, recordAudit } from "./audit.ts";

/** A channel debtors write to us on. */
export type InboundChannel = "sms" | "whatsapp";

/**
 * The accounts a debtor's number belongs to (one person may owe on several accounts). SMS
 * matches the phone; WhatsApp matches the WhatsApp number, or the phone of an account that
 * has none (that is where our WhatsApp messages go).
 * @example await accountsByNumber(db, "whatsapp", "+6281234567890")
 */
export async function accountsByNumber(db: Database, channel: InboundChannel, number: string): Promise<Account[]> {
  const where = channel === "sms" ? { phone: number } : { OR: [{ whatsapp: number }, { whatsapp: null, phone: number }] };
  return db.account.findMany({ where, orderBy: { createdAt: "asc" } });
}

/**
 * Opts the accounts out of a channel in every campaign at once, and marks the latest attempt
 * on that channel of each account newly opted out as the one it answered (MIS opt-outs);
 * returns how many accounts were not opted out before (0: a repeat, which gets no second
 * confirmation).
 */
export async function recordOptOut(db: Database, accountIds: string[], channel: string, source: string): Promise<number> {
  const added = await db.$queryRaw<{ account_id: string }[]>`
    INSERT INTO opt_outs (account_id, channel, source, created_at)
    SELECT id, ${channel}, ${source}, now() FROM accounts WHERE id = ANY(${accountIds}::uuid[])
    ON CONFLICT (account_id, channel) DO NOTHING
    RETURNING account_id`;
  if (added.length > 0)
    await markOptedOutAttempts(
      db,
      added.map((a) => a.account_id),
      channel,
    );
  return added.length;
}

/** Marks each account's latest attempt on the channel as answered by an opt-out (the first counts). */
export async function markOptedOutAttempts(db: Database, accountIds: string[], channel: string): Promise<void> {
  await db.$executeRaw`
    UPDATE contact_attempts a SET opted_out_at = now(), updated_at = now()
      FROM (SELECT DISTINCT ON (account_id) id FROM contact_attempts
             WHERE account_id = ANY(${accountIds}::uuid[]) AND channel = ${channel}
             ORDER BY account_id, created_at DESC) latest
     WHERE a.id = latest.id AND a.opted_out_at IS NULL`;
}

/** Starts the source of an opt-out a debtor's own text made (`inbound:STOP`, `inbound:text` for a phrase): their START lifts only those, so no other may carry it. */
export const TEXTED_OPT_OUT = "inbound:";

/** The `source` of an opt-out recorded from the debtor's text: the keyword, or "text" for a phrase asking to stop. */
export function textedOptOutSource(keyword: string | null): string {
  return `${TEXTED_OPT_OUT}${keyword ?? "text"}`;
}

/**
 * A debtor's opt-in keyword (START, UNSTOP, YES) on a channel. It lifts the accounts' opt-outs
 * of that channel their own texts made, and keeps the others: ops recorded those from a call
 * or a letter (the debtor may opt out by any reasonable means), and a one-word reply, which
 * may answer something else, must not undo them. Each lift and each refusal is audited with
 * the actor "debtor" and the message's id, never the number, in the same transaction.
 * Returns how many opt-outs were lifted and kept.
 */
export async function optInByText(
  db: Database,
  accountIds: string[],
  channel: InboundChannel,
  message: { keyword: string; messageSid: string },
): Promise<{ lifted: number; kept: number }> {
  return db.$transaction(async (tx) => {
    const lifted = await tx.$queryRaw<{ account_id: string; source: string }[]>`
      DELETE FROM opt_outs WHERE account_id = ANY(${accountIds}::uuid[]) AND channel = ${channel} AND starts_with(source, ${TEXTED_OPT_OUT})
      RETURNING account_id, source`;
    const kept = await tx.optOut.findMany({ where: { accountId: { in: accountIds }, channel }, orderBy: { accountId: "asc" } });
    const audit = (action: string, accountId: string, source: string) =>
      recordAudit(tx, { actor: DEBTOR_ACTOR, action, target: { type: "account", id: accountId }, detail: { channel, ...message, source } });
    for (const o of lifted) await audit("account.opt-in", o.account_id, o.source);
    for (const o of kept) await audit("account.opt-in-refuse", o.accountId, o.source);
    return { lifted: lifted.length, kept: kept.length };
  });
}

/** A WhatsApp message from the debtor opens (or extends) the 24-hour customer-service window. */
export async function noteWhatsappInbound(db: Database, accountIds: string[], at: Date): Promise<void> {
  await db.$executeRaw`
    UPDATE accounts SET last_whatsapp_inbound_at = GREATEST(COALESCE(last_whatsapp_inbound_at, ${at}), ${at}), updated_at = now()
     WHERE id = ANY(${accountIds}::uuid[])`;
}

/** Marks each account's latest attempt on the channel as replied to (the first reply counts). */
export async function recordReply(db: Database, accountIds: string[], channel: string, at: Date): Promise<number> {
  return db.$executeRaw`
    UPDATE contact_attempts a SET replied_at = ${at}, updated_at = now()
      FROM (SELECT DISTINCT ON (account_id) id FROM contact_attempts
             WHERE account_id = ANY(${accountIds}::uuid[]) AND channel = ${channel}
             ORDER BY account_id, created_at DESC) latest
     WHERE a.id = latest.id AND a.replied_at IS NULL`;
}

/** Workflow ids of the accounts' journeys that may still be running. */
export async function runningWorkflowIds(db: Database, accountIds: string[]): Promise<string[]> {
  const enrolments = await db.enrolment.findMany({
    where: { accountId: { in: accountIds }, status: { in: ["enrolled", "running"] } },
    select: { workflowId: true },
  });
  return enrolments.map((e) => e.workflowId);
}
