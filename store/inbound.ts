import type { Account } from "../generated/prisma/client.ts";
import type { Database } from "../runtime/database.ts";

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

/** Opts the accounts back in to a channel; returns how many were opted out. */
export async function removeOptOut(db: Database, accountIds: string[], channel: string): Promise<number> {
  const { count } = await db.optOut.deleteMany({ where: { accountId: { in: accountIds }, channel } });
  return count;
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
