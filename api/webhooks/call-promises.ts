// IVR promises and the journeys they pause: told during the call, or by the sweep after it.
import type { ApiDeps } from "../types.ts";
import type { PromiseSignal } from "../../workflows/account-messages.ts";
import { STRANDED_AFTER_MS } from "../../store/stranded-callbacks.ts";
import { tellAccountWorkflows } from "./twilio-inbound.ts";

/** Tells the account's running journeys of an IVR promise, then marks its callback told (`signalled_at`). */
export async function tellOfCallPromise(
  { db, temporal }: Pick<ApiDeps, "db" | "temporal">,
  callbackId: string,
  promise: { id: string; accountId: string; amountMinor: bigint; dueDate: string },
): Promise<number> {
  const signal: PromiseSignal = { promiseId: promise.id, amountMinor: String(promise.amountMinor), dueDate: promise.dueDate };
  const told = await tellAccountWorkflows(db, temporal, [promise.accountId], "promiseToPay", signal);
  await db.callback.update({ where: { id: callbackId }, data: { signalledAt: new Date() } });
  return told;
}

/**
 * Tells the journeys of IVR promises still open that they could not be told of during the
 * call (Temporal unreachable, the process stopped): a promise pauses contact until its date.
 * Returns how many were told.
 */
export async function tellUntoldCallPromises(deps: Pick<ApiDeps, "db" | "temporal" | "logger">): Promise<number> {
  const untold = await deps.db.$queryRaw<{ callback_id: string; id: string; account_id: string; amount_minor: bigint; due_date: string }[]>`
    SELECT c.id AS callback_id, p.id, p.account_id, p.amount_minor, to_char(p.due_date, 'YYYY-MM-DD') AS due_date
      FROM callbacks c
      JOIN contact_attempts a ON a.vendor = 'twilio' AND a.vendor_id = c.payload ->> 'CallSid'
      JOIN promises p ON p.attempt_id = a.id AND p.source = 'ivr'
     WHERE c.vendor = 'twilio' AND c.kind = 'promise' AND c.applied_at IS NOT NULL AND c.signalled_at IS NULL AND p.status = 'open'
       AND c.received_at < now() - make_interval(secs => ${STRANDED_AFTER_MS / 1000})
     ORDER BY c.received_at LIMIT 100`;
  let told = 0;
  for (const row of untold) {
    try {
      await tellOfCallPromise(deps, row.callback_id, { id: row.id, accountId: row.account_id, amountMinor: row.amount_minor, dueDate: row.due_date });
      told += 1;
    } catch (error) {
      deps.logger.warn({ err: error, promiseId: row.id }, "IVR promise's journeys still could not be told");
    }
  }
  return told;
}
