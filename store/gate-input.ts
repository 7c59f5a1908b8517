import type { Channel } from "../domain/channel.ts";
import type { ContactHistoryEntry, GateInput, Hold } from "../domain/compliance/index.ts";
import type { Prisma } from "../generated/prisma/client.ts";

type Reader = Pick<Prisma.TransactionClient, "account" | "contactAttempt" | "optOut" | "accountHold">;

// The longest rolling window any policy counts over (US 7 consecutive days, cool-off 7),
// with room to spare for zones far from UTC.
const HISTORY_DAYS = 10;

/**
 * Everything the compliance gate needs about a stored debtor, from its real history across
 * every campaign: attempts, conversations, opt-outs, consent and active holds.
 * @example evaluateContact(await gateInputFor(db, accountId, "sms", new Date()))
 */
export async function gateInputFor(db: Reader, accountId: string, channel: Channel, at: Date): Promise<GateInput | undefined> {
  const account = await db.account.findUnique({ where: { id: accountId } });
  if (!account) return undefined;
  const since = new Date(at.getTime() - HISTORY_DAYS * 24 * 3600 * 1000);
  const [attempts, optOuts, holds] = await Promise.all([
    db.contactAttempt.findMany({
      where: { accountId, OR: [{ createdAt: { gte: since } }, { conversationAt: { gte: since } }] },
      select: { channel: true, createdAt: true, conversationAt: true },
    }),
    db.optOut.findMany({ where: { accountId }, select: { channel: true } }),
    db.accountHold.findMany({ where: { accountId, releasedAt: null }, select: { kind: true } }),
  ]);
  // The gate counts every entry as one contact: a call that became a conversation is one
  // entry, of kind conversation.
  const history: ContactHistoryEntry[] = attempts.map((a) =>
    a.conversationAt
      ? { channel: a.channel as Channel, at: a.conversationAt.toISOString(), kind: "conversation" }
      : { channel: a.channel as Channel, at: a.createdAt.toISOString(), kind: "attempt" },
  );
  return {
    jurisdiction: account.jurisdiction,
    ...(account.timeZone ? { timeZone: account.timeZone } : {}),
    channel,
    at: at.toISOString(),
    history,
    optOuts: optOuts.map((o) => o.channel as Channel),
    consent: { whatsapp: account.consentWhatsapp, autodialedCalls: account.consentAutodialed },
    holds: [...new Set(holds.map((h) => h.kind as Hold))],
    product: account.product,
  };
}
