import { WorkflowNotFoundError, type Client } from "@temporalio/client";
import { Prisma, type Payment, type PaymentResolution } from "../generated/prisma/client.ts";
import { currencyCodeSchema } from "../domain/money.ts";
import type { Database } from "../runtime/database.ts";
import type { Logger } from "../runtime/logger.ts";
import type { PaymentSignal } from "../workflows/account-messages.ts";
import { recordAudit } from "./audit.ts";
import { markCallbackApplied } from "./callbacks.ts";

/** A payment as any source reports it (ops, the payment gateway, an agency). */
export interface PaymentInput {
  accountId: string;
  /** Unique across every source: a payment reported twice (or by two sources) counts once. */
  reference: string;
  /** Positive integer in minor units, as a decimal string. */
  amountMinor: string;
  currency: string;
  /** When the debtor paid; the time it was recorded when absent. */
  paidAt?: Date;
}

export type PaymentRecord =
  /** Recorded now and the balance lowered. */
  | { status: "recorded"; payment: Payment }
  /** The reference was recorded before with the same account, amount and currency: nothing changed. */
  | { status: "duplicate"; payment: Payment }
  /** The reference was recorded before for another account, amount or currency: nothing changed. */
  | { status: "conflict"; payment: Payment }
  | { status: "currency-mismatch"; accountCurrency: string }
  /** Refused (`refuseAboveBalance`): more than the account's balance, a likely keying error. Nothing changed. */
  | { status: "above-balance"; balanceMinor: string }
  | { status: "no-account" };

export type AppliedPayment = PaymentRecord & { signalled: number };

/** How long a payment waits for its account's row (held by another change: an import's batch, a gate's reservation). */
const ACCOUNT_LOCK_WAIT = "3s";

/** The account is held by another change that has not finished: nothing was recorded; retry later. */
export class AccountBusyError extends Error {
  constructor(readonly accountId: string) {
    super(`account ${accountId} is being changed by another operation (an import in progress?); nothing was recorded, retry in a few seconds`);
    this.name = "AccountBusyError";
  }
}

/** Whether PostgreSQL gave up waiting for a lock (lock_timeout, SQLSTATE 55P03), however the client wrapped it. */
function isLockTimeout(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; originalCode?: unknown; meta?: unknown; cause?: unknown; message?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (e.code === "55P03" || e.originalCode === "55P03" || (typeof e.message === "string" && e.message.includes("lock timeout"))) return true;
    if (e.meta !== undefined && JSON.stringify(e.meta).includes("55P03")) return true;
  }
  return false;
}

export interface PaymentDeps {
  db: Database;
  temporal: Client;
  logger: Logger;
}

/**
 * Records a payment once per reference and lowers the account's balance in the same
 * transaction. A repeat with the same details is a duplicate; with other details a conflict.
 * With an `actor` (an API key id: ops recorded it by hand) a recorded payment is also
 * audited as `payment.record`, in that transaction; a repeat changes nothing and is not.
 * `refuseAboveBalance` refuses a new payment above the balance (keyed by hand: a typo would
 * leave a huge credit and every report the account is in wrong); a repeat is still a duplicate.
 * @example await recordPayment(db, { accountId, reference: "PAY-1", amountMinor: "150000", currency: "IDR" })
 */
export async function recordPayment(
  db: Database,
  input: PaymentInput,
  { actor, refuseAboveBalance = false }: { actor?: string; refuseAboveBalance?: boolean } = {},
): Promise<PaymentRecord> {
  return db
    .$transaction(async (tx): Promise<PaymentRecord> => {
      // Fail fast, and say why, rather than wait out the transaction's timeout for a 500.
      await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '${ACCOUNT_LOCK_WAIT}'`);
      const account = await tx.account.findUnique({ where: { id: input.accountId }, select: { currency: true, balanceMinor: true } });
      if (!account) return { status: "no-account" };
      if (account.currency !== input.currency) return { status: "currency-mismatch", accountCurrency: account.currency };
      const amount = BigInt(input.amountMinor);
      if (refuseAboveBalance && amount > account.balanceMinor && !(await tx.payment.findUnique({ where: { reference: input.reference } }))) {
        return { status: "above-balance", balanceMinor: account.balanceMinor.toString() };
      }
      const { count } = await tx.payment.createMany({
        data: [{ reference: input.reference, accountId: input.accountId, amountMinor: amount, currency: input.currency, paidAt: input.paidAt ?? new Date() }],
        skipDuplicates: true,
      });
      const payment = await tx.payment.findUniqueOrThrow({ where: { reference: input.reference } });
      if (count === 0) {
        const same = payment.accountId === input.accountId && payment.amountMinor === amount && payment.currency === input.currency;
        return { status: same ? "duplicate" : "conflict", payment };
      }
      await tx.account.update({ where: { id: input.accountId }, data: { balanceMinor: { decrement: amount } } });
      if (actor !== undefined) {
        await recordAudit(tx, {
          actor,
          action: "payment.record",
          target: { type: "payment", id: input.reference },
          detail: { accountId: input.accountId, amountMinor: input.amountMinor, currency: input.currency, paidAt: payment.paidAt.toISOString() },
        });
      }
      return { status: "recorded", payment };
    })
    .catch((error: unknown) => {
      throw isLockTimeout(error) ? new AccountBusyError(input.accountId) : error;
    });
}

/**
 * Records a payment (see `recordPayment`) and tells the account's running journeys with the
 * `payment` signal; a full payment ends them `paid`. With `resignal`, a duplicate is told
 * again to the journeys enrolled before the payment was recorded (an earlier delivery may
 * have stored it without reaching them; the workflow counts a reference once). Journeys
 * enrolled later started from the lowered balance and are never told.
 * Throws when a running journey could not be signalled: the payment stays recorded and a
 * retry with `resignal` completes the delivery. `actor` audits a recorded payment (see `recordPayment`).
 * @example await applyPayment({ db, temporal, logger }, input, { resignal: true })
 */
export async function applyPayment(
  deps: PaymentDeps,
  input: PaymentInput,
  options: { resignal: boolean; actor?: string; refuseAboveBalance?: boolean },
): Promise<AppliedPayment> {
  const recorded = await recordPayment(deps.db, input, options);
  const signal = (enrolledBefore?: Date) =>
    signalRunningJourneys(deps, input.accountId, "payment", { reference: input.reference, amountMinor: input.amountMinor } satisfies PaymentSignal, {
      enrolledBefore,
    });
  if (recorded.status === "recorded") {
    deps.logger.info({ accountId: input.accountId, reference: input.reference, amountMinor: input.amountMinor }, "payment recorded");
    return { ...recorded, signalled: await signal() };
  }
  if (recorded.status === "duplicate" && options.resignal) return { ...recorded, signalled: await signal(recorded.payment.receivedAt) };
  return { ...recorded, signalled: 0 };
}

/**
 * Signals every running journey of an account (optionally only those enrolled up to an
 * instant); a journey that ended meanwhile has nothing to hear. Returns how many were told.
 * @example await signalRunningJourneys(deps, accountId, "promiseToPay", { promiseId, amountMinor, dueDate })
 */
export async function signalRunningJourneys(
  { db, temporal, logger }: PaymentDeps,
  accountId: string,
  signal: string,
  arg?: unknown,
  options: { enrolledBefore?: Date } = {},
): Promise<number> {
  // "enrolled" too: a page's journeys are marked running only once all its starts are done,
  // and one that has started meanwhile read the account before this change, or not.
  const running = await db.enrolment.findMany({
    where: { accountId, status: { in: ["enrolled", "running"] }, ...(options.enrolledBefore ? { enrolledAt: { lte: options.enrolledBefore } } : {}) },
    select: { workflowId: true },
  });
  const told = await Promise.all(
    running.map((e) =>
      temporal.workflow
        .getHandle(e.workflowId)
        .signal(signal, ...(arg === undefined ? [] : [arg]))
        .then(
          () => true,
          (error: unknown) => {
            // Not started yet: it reads the account when it starts. Finished: nothing to tell.
            if (!(error instanceof WorkflowNotFoundError)) throw error;
            return false;
          },
        ),
    ),
  );
  const signalled = told.filter(Boolean).length;
  logger.info({ accountId, signal, workflows: signalled }, "told the account's journeys");
  return signalled;
}

/** A payment gateway notification as it was stored (validated) in `callbacks`. */
export interface PaymentNotification {
  reference: string;
  accountExternalId?: string;
  accountId?: string;
  amountMinor: string | number;
  currency: string;
  paidAt?: string;
}

/**
 * The payment a notification reports, for the account it was matched with. Without `paidAt`
 * it was paid when the notification was received (`receivedAt`; absent: now).
 */
export function paymentOf(notification: PaymentNotification, accountId: string, receivedAt?: Date): PaymentInput {
  return {
    accountId,
    reference: notification.reference,
    amountMinor: String(notification.amountMinor),
    // Stored as the gateway sent it ("idr"); accounts hold the code in capitals.
    currency: currencyCodeSchema.parse(notification.currency),
    paidAt: notification.paidAt ? new Date(notification.paidAt) : receivedAt,
  };
}

/**
 * Whether two notifications of one reference report the same payment: the account named
 * the same way, the same amount and currency (`paidAt` and other fields aside, as for a
 * recorded payment).
 * @example sameNotifiedPayment(stored.payload as PaymentNotification, n)
 */
export function sameNotifiedPayment(a: PaymentNotification, b: PaymentNotification): boolean {
  return (
    a.accountExternalId === b.accountExternalId &&
    a.accountId?.toLowerCase() === b.accountId?.toLowerCase() &&
    String(a.amountMinor) === String(b.amountMinor) &&
    currencyCodeSchema.parse(a.currency) === currencyCodeSchema.parse(b.currency)
  );
}

/** How a payment names its account, as the gateway does: by external id, by id, or by both (which must agree). */
export interface AccountSelector {
  accountExternalId?: string;
  accountId?: string;
}

/**
 * The Prisma filter for the account a selector names (none when it names nothing).
 * @example await db.account.findFirst({ where: accountNamed({ accountExternalId: "CC-1001" }) })
 */
export function accountNamed({ accountExternalId, accountId }: AccountSelector): Prisma.AccountWhereInput {
  if (!accountId && !accountExternalId) return { id: { in: [] } };
  return { ...(accountId ? { id: accountId } : {}), ...(accountExternalId ? { externalId: accountExternalId } : {}) };
}

// Payment notifications stored but not applied nor settled by hand, each with the account it
// names if that account exists now: by external id (and id too when both are given, as the
// webhook matches), or by id.
const WAITING_PAYMENTS = Prisma.sql`
  SELECT c.id, c.payload, c.received_at, COALESCE(by_external_id.id, by_id.id) AS account_id
    FROM callbacks c
    LEFT JOIN accounts by_external_id
      ON by_external_id.external_id = c.payload ->> 'accountExternalId'
     AND (c.payload ->> 'accountId' IS NULL OR by_external_id.id = (c.payload ->> 'accountId')::uuid)
    LEFT JOIN accounts by_id
      ON c.payload ->> 'accountExternalId' IS NULL AND by_id.id = (c.payload ->> 'accountId')::uuid
   WHERE c.vendor = 'payments' AND c.applied_at IS NULL
     AND NOT EXISTS (SELECT 1 FROM payment_resolutions r WHERE r.reference = c.event_id)`;

interface WaitingPayment {
  id: string;
  payload: PaymentNotification;
  received_at: Date;
  account_id: string | null;
}

/**
 * Applies the payment notifications that arrived before their account existed, now that it
 * does (all of them, or those naming `externalIds`): each is recorded and signalled as the
 * webhook does (`applyPayment`, so a reference counts once) and its callback marked applied,
 * so a redelivery afterwards is a duplicate. A payment that cannot be applied (another
 * currency, a reused reference, a journey that could not be told) is logged and stays waiting
 * for the next reconciliation or a redelivery. Returns how many were applied.
 * @example await reconcilePayments({ db, temporal, logger }, ["CC-1001"])
 */
export async function reconcilePayments(deps: PaymentDeps, externalIds?: readonly string[]): Promise<number> {
  const only = externalIds ? Prisma.sql`AND c.payload ->> 'accountExternalId' = ANY(${[...externalIds]}::text[])` : Prisma.empty;
  const waiting = await deps.db.$queryRaw<WaitingPayment[]>`
    SELECT id, payload, received_at, account_id FROM (${WAITING_PAYMENTS} ${only}) w WHERE account_id IS NOT NULL ORDER BY received_at`;
  let applied = 0;
  for (const { id, payload, received_at: receivedAt, account_id: accountId } of waiting) {
    const context = { vendor: "payments", reference: payload.reference, accountId };
    try {
      const result = await applyPayment(deps, paymentOf(payload, accountId!, receivedAt), { resignal: true });
      if (result.status !== "recorded" && result.status !== "duplicate") {
        deps.logger.warn({ ...context, status: result.status }, "a payment waiting for its account could not be applied");
        continue;
      }
      await markCallbackApplied(deps.db, id);
      applied += 1;
    } catch (error) {
      deps.logger.error({ ...context, err: error }, "could not apply a payment waiting for its account; it stays waiting");
    }
  }
  if (applied > 0) deps.logger.info({ applied }, "applied payments that arrived before their accounts");
  return applied;
}

/**
 * Payment notifications no account matches (yet), newest first: `take` rows after the
 * cursor's (received at, id).
 * @example await unmatchedPayments(db, 51, { receivedAt, id })
 */
export function unmatchedPayments(db: Database, take: number, before?: { receivedAt: Date; id: string }) {
  const page = before ? Prisma.sql`AND (received_at, id) < (${before.receivedAt}, ${before.id}::uuid)` : Prisma.empty;
  return db.$queryRaw<WaitingPayment[]>`
    SELECT id, payload, received_at, account_id FROM (${WAITING_PAYMENTS}) w
     WHERE account_id IS NULL ${page}
     ORDER BY received_at DESC, id DESC
     LIMIT ${take}`;
}

export type Settlement =
  /** Settled now, or earlier the same way (a repeat answers the same resolution). */
  | { status: "resolved"; resolution: PaymentResolution }
  | { status: "unknown-reference" }
  /** Settled earlier another way: dismissed, or assigned to another account. */
  | { status: "already-resolved"; resolution: PaymentResolution }
  /** Applied to its account by the gateway or a reconciliation. */
  | { status: "already-applied"; accountId: string | null }
  | { status: "no-account" }
  | { status: "currency-mismatch"; accountId: string; accountCurrency: string; currency: string }
  /** The reference was recorded for another account, amount or currency (by ops or an agency). */
  | { status: "conflict"; payment: Payment };

interface LockedNotification {
  id: string;
  payload: PaymentNotification;
  applied_at: Date | null;
  received_at: Date;
}

/** The stored notification of a reference, locked until the transaction ends: one settlement at a time. */
async function lockNotification(tx: Prisma.TransactionClient, reference: string): Promise<LockedNotification | undefined> {
  const [row] = await tx.$queryRaw<LockedNotification[]>`
    SELECT id, payload, applied_at, received_at FROM callbacks WHERE vendor = 'payments' AND event_id = ${reference} FOR UPDATE`;
  return row;
}

/** Where a notification applied without ops went (the gateway or a reconciliation). */
async function appliedElsewhere(tx: Prisma.TransactionClient, reference: string): Promise<Settlement> {
  const payment = await tx.payment.findUnique({ where: { reference }, select: { accountId: true } });
  return { status: "already-applied", accountId: payment?.accountId ?? null };
}

/**
 * Applies a gateway payment that matched no account to the account ops name, exactly as a
 * matched notification is applied (`applyPayment`: recorded once, balance lowered, journeys
 * told), marks the notification applied and records the assignment and its audit entry.
 * A repeat naming the same account answers the same resolution and changes nothing.
 * The notification stays locked meanwhile, so a dismissal or a second assignment waits.
 * @example await assignPayment(deps, { reference: "PAY-123", account: { accountExternalId: "CC-1001" }, actor: keyId })
 */
export async function assignPayment(deps: PaymentDeps, input: { reference: string; account: AccountSelector; actor: string }): Promise<Settlement> {
  const { reference } = input;
  return deps.db.$transaction(
    async (tx): Promise<Settlement> => {
      const notification = await lockNotification(tx, reference);
      if (!notification) return { status: "unknown-reference" };
      const account = await tx.account.findFirst({ where: accountNamed(input.account), select: { id: true, currency: true } });
      const earlier = await tx.paymentResolution.findUnique({ where: { reference } });
      if (earlier) {
        const same = earlier.status === "assigned" && earlier.accountId === account?.id;
        return { status: same ? "resolved" : "already-resolved", resolution: earlier };
      }
      if (notification.applied_at) return appliedElsewhere(tx, reference);
      if (!account) return { status: "no-account" };
      const payment = paymentOf(notification.payload, account.id, notification.received_at);
      const { currency } = payment;
      if (account.currency !== currency) return { status: "currency-mismatch", accountId: account.id, accountCurrency: account.currency, currency };

      // Recorded in its own transaction: if this one fails after it, a repeat finds it recorded
      // (a duplicate, told to the journeys again) and completes the assignment.
      const applied = await applyPayment(deps, payment, { resignal: true });
      if (applied.status === "conflict") return { status: "conflict", payment: applied.payment };
      if (applied.status === "no-account") return { status: "no-account" };
      if (applied.status === "currency-mismatch")
        return { status: "currency-mismatch", accountId: account.id, accountCurrency: applied.accountCurrency, currency };
      await tx.callback.update({ where: { id: notification.id }, data: { appliedAt: new Date() } });
      const resolution = await tx.paymentResolution.create({ data: { reference, status: "assigned", accountId: account.id } });
      await recordAudit(tx, {
        actor: input.actor,
        action: "payment.assign",
        target: { type: "payment", id: reference },
        detail: { accountId: account.id, amountMinor: payment.amountMinor, currency },
      });
      deps.logger.info({ reference, accountId: account.id, status: applied.status }, "unmatched payment assigned to an account by hand");
      return { status: "resolved", resolution };
    },
    // Telling the journeys happens inside: allow for Temporal's answer.
    { timeout: 30_000 },
  );
}

/**
 * Takes a gateway payment that matched no account off the listing and out of reconciliation
 * for good, keeping the notification and the reason (the first reason stays; a repeat answers
 * the same resolution), with an audit entry.
 * @example await dismissPayment(db, { reference: "PAY-123", reason: "refunded", actor: keyId })
 */
export async function dismissPayment(db: Database, input: { reference: string; reason: string; actor: string }): Promise<Settlement> {
  const { reference, reason } = input;
  return db.$transaction(async (tx): Promise<Settlement> => {
    const notification = await lockNotification(tx, reference);
    if (!notification) return { status: "unknown-reference" };
    const earlier = await tx.paymentResolution.findUnique({ where: { reference } });
    if (earlier) return { status: earlier.status === "dismissed" ? "resolved" : "already-resolved", resolution: earlier };
    if (notification.applied_at) return appliedElsewhere(tx, reference);
    const resolution = await tx.paymentResolution.create({ data: { reference, status: "dismissed", reason } });
    await recordAudit(tx, { actor: input.actor, action: "payment.dismiss", target: { type: "payment", id: reference }, detail: { reason } });
    return { status: "resolved", resolution };
  });
}
