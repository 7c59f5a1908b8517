import { WorkflowNotFoundError, type Client } from "@temporalio/client";
import pMap from "p-map";
import type { Database } from "../runtime/database.ts";
import type { Logger } from "../runtime/logger.ts";
import type { OwedSignal } from "../store/message-status-intake.ts";
import { applyStrandedTwilioStatuses, STRANDED_AFTER_MS } from "../store/stranded-callbacks.ts";
import { applyStrandedInbound } from "./webhooks/twilio-inbound.ts";
import { tellUntoldCallPromises } from "./webhooks/call-promises.ts";
import type { PaymentLinks } from "./webhooks/payment-links.ts";

export interface OutcomeSignaller {
  /** Sends signals owed by stored callbacks in the background; what fails stays owed. */
  send(owed: { callbackId: string; signal: OwedSignal }[]): void;
  /**
   * Sends the signals still owed from earlier (a failed send, a process that stopped), after
   * applying the status callbacks and inbound messages left pending (`applyStrandedInbound`)
   * and telling journeys of IVR promises they missed (`tellUntoldCallPromises`); and, given
   * `paymentLinks`, finishes the IVR payment-link texts a stopped process left half-sent.
   */
  sweep(): Promise<number>;
}

/** Beyond this many signals in flight, new ones wait in the database for the sweeper. */
const MAX_IN_FLIGHT = 5_000;
const MARK_EVERY_MS = 200;

/**
 * Tells account workflows about outcomes their callbacks reported, after the callbacks are
 * committed and answered: a vendor's callback never waits on Temporal, and a signal is
 * marked sent only once Temporal took it (or the workflow is gone), so none is lost.
 * Workflows treat a repeated signal as one, so a sweep racing a send is harmless.
 */
export function createOutcomeSignaller({
  db,
  temporal,
  logger,
  paymentLinks,
}: {
  db: Database;
  temporal: Client;
  logger: Logger;
  paymentLinks?: PaymentLinks;
}): OutcomeSignaller {
  let inFlight = 0;

  async function deliver(owed: { callbackId: string; signal: OwedSignal }[]): Promise<string[]> {
    const sent: string[] = [];
    await pMap(
      owed,
      async ({ callbackId, signal: { workflowId, ...signal } }) => {
        try {
          await temporal.workflow.getHandle(workflowId).signal("contactOutcome", signal);
          sent.push(callbackId);
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) sent.push(callbackId);
          else logger.warn({ err: error, workflowId, attemptId: signal.attemptId, callbackId }, "contactOutcome signal not sent; the sweeper retries it");
        }
      },
      { concurrency: 16 },
    );
    return sent;
  }

  const markSent = async (ids: string[]) => {
    if (ids.length > 0) await db.$executeRaw`UPDATE callbacks SET signalled_at = now() WHERE id = ANY(${ids}::uuid[])`;
  };
  // Sent signals are marked in one statement every MARK_EVERY_MS rather than one each: a
  // busy webhook would otherwise commit twice per outcome. A mark lost to a stop only
  // means the sweeper sends that signal again.
  let toMark: string[] = [];
  let markTimer: NodeJS.Timeout | undefined;
  const scheduleMarks = (ids: string[]) => {
    toMark.push(...ids);
    markTimer ??= setTimeout(() => {
      const ids = toMark;
      toMark = [];
      markTimer = undefined;
      markSent(ids).catch((error: unknown) => logger.warn({ err: error }, "could not mark contactOutcome signals sent; the sweeper sends them again"));
    }, MARK_EVERY_MS);
  };

  return {
    send(owed) {
      if (owed.length === 0 || inFlight + owed.length > MAX_IN_FLIGHT) return;
      inFlight += owed.length;
      void deliver(owed)
        .then(scheduleMarks)
        .finally(() => (inFlight -= owed.length));
    },
    async sweep() {
      await applyStrandedTwilioStatuses(db);
      await applyStrandedInbound({ db, temporal, logger });
      await tellUntoldCallPromises({ db, temporal, logger });
      await paymentLinks?.finishStranded();
      const rows = await db.$queryRaw<{ id: string; signal: OwedSignal }[]>`
        SELECT id, signal FROM callbacks
         WHERE signal IS NOT NULL AND signalled_at IS NULL AND received_at < now() - make_interval(secs => ${STRANDED_AFTER_MS / 1000})
         ORDER BY received_at LIMIT 500`;
      const sent = await deliver(rows.map((r) => ({ callbackId: r.id, signal: r.signal })));
      await markSent(sent);
      return sent.length;
    },
  };
}

/**
 * Sweeps owed signals every `everyMs` until stopped.
 * @example const stop = startOutcomeSweeper(signaller, logger); ... await stop();
 */
export function startOutcomeSweeper(signaller: OutcomeSignaller, logger: Logger, everyMs = 10_000): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = signaller
      .sweep()
      .then((sent) => sent > 0 && logger.info({ sent }, "sent contactOutcome signals owed from earlier"))
      .catch((error: unknown) => logger.warn({ err: error }, "outcome signal sweep failed"));
  }, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
