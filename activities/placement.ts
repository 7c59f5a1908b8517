import { SIGNATURE_HEADER, signTagihPayload } from "../vendors/tagih-signature.ts";
import type { ActivityDeps } from "./types.ts";

export interface PlacementResult {
  placementId: string;
  agency: string;
}

/** What an agency receives when an account is placed with it (JSON; money in minor units as a string). */
export interface PlacementNotice {
  /** The same on every retry: the agency drops repeats by it and quotes it in its callbacks. */
  placementId: string;
  placedAt: string;
  accountExternalId: string;
  name: string;
  contactPoints: { phone: string | null; email: string | null; whatsapp: string | null };
  /** The balance placed, in minor units. */
  balanceMinor: string;
  currency: string;
  daysPastDue: number;
  dueDate: string | null;
  jurisdiction: string;
  timeZone: string | null;
  locale: string;
  /** Where the agency reports contact, promise, payment and recall. */
  callbackUrl: string;
}

export interface NoticeResult {
  placementId: string;
  /** acknowledged; or recalled/closed when the notice was no longer needed. */
  status: string;
}

const NOTICE_TIMEOUT_MS = 15_000;

export function createPlacementActivities({ db, clock, logger, settings }: ActivityDeps) {
  return {
    /**
     * Places the account with an agency: records the placement once per (enrolment, step).
     * The signed notice to the agency is sent by `notifyAgency`, retried until acknowledged.
     */
    async placeWithAgency(input: { enrolmentId: string; stepId: string; agency: string }): Promise<PlacementResult> {
      const agency = await db.agency.findUnique({ where: { name: input.agency } });
      if (!agency) throw new Error(`no agency named ${input.agency} (enrolment ${input.enrolmentId}, step ${input.stepId})`);
      const enrolment = await db.enrolment.findUniqueOrThrow({ where: { id: input.enrolmentId }, include: { account: true } });
      const placement = await db.placement.upsert({
        where: { enrolmentId_stepId: { enrolmentId: input.enrolmentId, stepId: input.stepId } },
        create: {
          agencyId: agency.id,
          accountId: enrolment.accountId,
          enrolmentId: input.enrolmentId,
          stepId: input.stepId,
          amountMinor: enrolment.account.balanceMinor,
          currency: enrolment.account.currency,
        },
        update: {},
      });
      return { placementId: placement.id, agency: agency.name };
    },

    /**
     * Sends the placement notice to the agency's endpoint: a JSON POST signed
     * `X-Tagih-Signature: t=<unix seconds>,v1=<HMAC-SHA256 of "<t>.<body>">` with the
     * agency's secret. A 2xx acknowledges the placement; anything else, a timeout or a network
     * error throws, and Temporal retries with backoff until the agency answers. Nothing is sent
     * once the placement is acknowledged, recalled or closed, nor for an account already paid
     * or a cancelled campaign (the placement is then closed).
     */
    async notifyAgency(input: { placementId: string }): Promise<NoticeResult> {
      const placement = await db.placement.findUniqueOrThrow({
        where: { id: input.placementId },
        include: { agency: true, account: true },
      });
      if (placement.status !== "placed") return { placementId: placement.id, status: placement.status };
      const campaign = placement.enrolmentId
        ? (await db.enrolment.findUnique({ where: { id: placement.enrolmentId }, select: { campaign: { select: { status: true } } } }))?.campaign
        : undefined;
      if (placement.account.balanceMinor <= 0n || campaign?.status === "cancelled") {
        await db.placement.updateMany({ where: { id: placement.id, status: "placed" }, data: { status: "closed" } });
        logger.info({ placementId: placement.id, agency: placement.agency.name }, "placement closed before the agency was told (paid or cancelled)");
        return { placementId: placement.id, status: "closed" };
      }

      const { account, agency } = placement;
      const notice: PlacementNotice = {
        placementId: placement.id,
        placedAt: placement.placedAt.toISOString(),
        accountExternalId: account.externalId,
        name: account.name,
        contactPoints: { phone: account.phone, email: account.email, whatsapp: account.whatsapp },
        balanceMinor: placement.amountMinor.toString(),
        currency: placement.currency,
        daysPastDue: account.daysPastDue,
        dueDate: account.dueDate ? account.dueDate.toISOString().slice(0, 10) : null,
        jurisdiction: account.jurisdiction,
        timeZone: account.timeZone,
        locale: account.locale,
        callbackUrl: `${settings.publicBaseUrl}/v1/webhooks/agencies/${agency.id}`,
      };
      const body = JSON.stringify(notice);
      const context = `placement ${placement.id} with ${agency.name}`;
      let response: Response;
      try {
        response = await fetch(agency.endpoint, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            [SIGNATURE_HEADER]: signTagihPayload(agency.secret, body, Math.floor(clock().getTime() / 1000)),
            "idempotency-key": placement.id,
          },
          body,
          signal: AbortSignal.timeout(NOTICE_TIMEOUT_MS),
        });
      } catch (error) {
        throw new Error(`agency endpoint unreachable (${context}): ${(error as Error).cause ?? error}`, { cause: error });
      }
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new Error(`agency answered ${response.status} to the notice (${context})`);

      await db.placement.updateMany({ where: { id: placement.id, status: "placed" }, data: { status: "acknowledged", acknowledgedAt: clock() } });
      logger.info({ placementId: placement.id, agency: agency.name }, "agency acknowledged the placement");
      return { placementId: placement.id, status: "acknowledged" };
    },
  };
}
