import type { Hold } from "../domain/compliance/index.ts";
import { postToEndpoint } from "../vendors/endpoints.ts";
import { SIGNATURE_HEADER, signTagihPayload } from "../vendors/tagih-signature.ts";
import type { ActivityDeps } from "./types.ts";

export interface PlacementResult {
  placementId: string;
  agency: string;
}

/** What an agency receives when an account is placed with it (JSON; money in minor units as a string). */
export interface PlacementNotice {
  type: "placed";
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

/** Why a placement closed: the debt was paid, the campaign cancelled, or a hold stopped the journey. */
export type CloseReason = "paid" | "cancelled" | `hold:${Hold}`;

/** What an agency receives when it must stop working a placed account (JSON). */
export interface PlacementClosedNotice {
  type: "closed";
  placementId: string;
  accountExternalId: string;
  closedAt: string;
  reason: CloseReason;
}

export interface NoticeResult {
  placementId: string;
  /** acknowledged; or recalled/closed when the notice was no longer needed. */
  status: string;
}

const NOTICE_TIMEOUT_MS = 15_000;

export function createPlacementActivities({ db, clock, logger, settings }: ActivityDeps) {
  /**
   * POSTs a notice to the agency's endpoint signed
   * `X-Tagih-Signature: t=<unix seconds>,v1=<HMAC-SHA256 of "<t>.<body>">` with the agency's
   * secret, under an Idempotency-Key the agency drops repeats by. Returns on a 2xx; anything
   * else, a timeout or a network error throws, and Temporal retries with backoff.
   */
  async function sendToAgency(
    agency: { endpoint: string; secret: string },
    notice: PlacementNotice | PlacementClosedNotice,
    idempotencyKey: string,
    context: string,
  ): Promise<void> {
    const body = JSON.stringify(notice);
    const response = await postToEndpoint(agency.endpoint, {
      headers: {
        "content-type": "application/json",
        [SIGNATURE_HEADER]: signTagihPayload(agency.secret, body, Math.floor(clock().getTime() / 1000)),
        "idempotency-key": idempotencyKey,
      },
      body,
      setting: settings.privateEndpoints,
      context,
      timeoutMs: NOTICE_TIMEOUT_MS,
    });
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new Error(`agency answered ${response.status} (${context})`);
  }

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
     * Sends the signed placement notice (`sendToAgency`, keyed by the placement id); a 2xx
     * acknowledges the placement, and Temporal retries anything else until the agency answers. Nothing is sent
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
        const closeReason: CloseReason = placement.account.balanceMinor <= 0n ? "paid" : "cancelled";
        await db.placement.updateMany({ where: { id: placement.id, status: "placed" }, data: { status: "closed", closedAt: clock(), closeReason } });
        logger.info({ placementId: placement.id, agency: placement.agency.name }, "placement closed before the agency acknowledged it (paid or cancelled)");
        return { placementId: placement.id, status: "closed" };
      }

      const { account, agency } = placement;
      const notice: PlacementNotice = {
        type: "placed",
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
      await sendToAgency(agency, notice, placement.id, `notice of placement ${placement.id} with ${agency.name}`);
      await db.placement.updateMany({ where: { id: placement.id, status: "placed" }, data: { status: "acknowledged", acknowledgedAt: clock() } });
      logger.info({ placementId: placement.id, agency: agency.name }, "agency acknowledged the placement");
      return { placementId: placement.id, status: "acknowledged" };
    },

    /**
     * Closes the placement (once: the first reason stays) and sends the agency the signed
     * closure notice, keyed `<placementId>:closed`, retried until acknowledged. Sent even when
     * the placement notice was never acknowledged, as its answer may only have been lost; not
     * sent for a placement the agency recalled itself, nor again once acknowledged.
     */
    async closePlacement(input: { placementId: string; reason: CloseReason }): Promise<NoticeResult> {
      await db.placement.updateMany({
        where: { id: input.placementId, closedAt: null, status: { not: "recalled" } },
        data: { status: "closed", closedAt: clock(), closeReason: input.reason },
      });
      const placement = await db.placement.findUniqueOrThrow({
        where: { id: input.placementId },
        include: { agency: true, account: { select: { externalId: true } } },
      });
      if (placement.status === "recalled" || placement.closeNotifiedAt) return { placementId: placement.id, status: placement.status };

      const { agency } = placement;
      const notice: PlacementClosedNotice = {
        type: "closed",
        placementId: placement.id,
        accountExternalId: placement.account.externalId,
        closedAt: placement.closedAt!.toISOString(),
        reason: placement.closeReason as CloseReason,
      };
      await sendToAgency(agency, notice, `${placement.id}:closed`, `closure of placement ${placement.id} with ${agency.name}`);
      await db.placement.updateMany({ where: { id: placement.id, closeNotifiedAt: null }, data: { closeNotifiedAt: clock() } });
      logger.info({ placementId: placement.id, agency: agency.name, reason: notice.reason }, "agency acknowledged the placement's closure");
      return { placementId: placement.id, status: "closed" };
    },
  };
}
