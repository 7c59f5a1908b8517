import { WorkflowNotFoundError, type Client } from "@temporalio/client";
import type { Payment } from "../generated/prisma/client.ts";
import type { Database } from "../runtime/database.ts";
import type { Logger } from "../runtime/logger.ts";
import type { PaymentSignal } from "../workflows/account-messages.ts";

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
  | { status: "no-account" };

export type AppliedPayment = PaymentRecord & { signalled: number };

export interface PaymentDeps {
  db: Database;
  temporal: Client;
  logger: Logger;
}

/**
 * Records a payment once per reference and lowers the account's balance in the same
 * transaction. A repeat with the same details is a duplicate; with other details a conflict.
 * @example await recordPayment(db, { accountId, reference: "PAY-1", amountMinor: "150000", currency: "IDR" })
 */
export async function recordPayment(db: Database, input: PaymentInput): Promise<PaymentRecord> {
  return db.$transaction(async (tx) => {
    const account = await tx.account.findUnique({ where: { id: input.accountId }, select: { currency: true } });
    if (!account) return { status: "no-account" };
    if (account.currency !== input.currency) return { status: "currency-mismatch", accountCurrency: account.currency };
    const amount = BigInt(input.amountMinor);
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
    return { status: "recorded", payment };
  });
}

/**
 * Records a payment (see `recordPayment`) and tells the account's running journeys with the
 * `payment` signal; a full payment ends them `paid`. With `resignal`, a duplicate is told
 * again to the journeys enrolled before the payment was recorded (an earlier delivery may
 * have stored it without reaching them; the workflow counts a reference once). Journeys
 * enrolled later started from the lowered balance and are never told.
 * Throws when a running journey could not be signalled: the payment stays recorded and a
 * retry with `resignal` completes the delivery.
 * @example await applyPayment({ db, temporal, logger }, input, { resignal: true })
 */
export async function applyPayment(deps: PaymentDeps, input: PaymentInput, options: { resignal: boolean }): Promise<AppliedPayment> {
  const recorded = await recordPayment(deps.db, input);
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
  const running = await db.enrolment.findMany({
    where: { accountId, status: "running", ...(options.enrolledBefore ? { enrolledAt: { lte: options.enrolledBefore } } : {}) },
    select: { workflowId: true },
  });
  await Promise.all(
    running.map((e) =>
      temporal.workflow
        .getHandle(e.workflowId)
        .signal(signal, ...(arg === undefined ? [] : [arg]))
        .catch((error: unknown) => {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
        }),
    ),
  );
  logger.info({ accountId, signal, workflows: running.length }, "told the account's journeys");
  return running.length;
}
