import { Context } from "@temporalio/activity";
import pMap from "p-map";
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from "@temporalio/client";
import { WorkflowIdReusePolicy } from "@temporalio/common";
import { NativeConnection } from "@temporalio/worker";
import { accountWorkflowId } from "../domain/workflow-ids.ts";
import { segmentWhere, type Segment } from "../domain/segment.ts";
import { policyFor } from "../domain/compliance/index.ts";
import type { CampaignStrategy, Variant } from "../domain/strategy.ts";
import { assignVariant } from "../domain/variant.ts";
import type { AccountWorkflowInput } from "../workflows/account.ts";
import type { ActivityDeps } from "./types.ts";

export interface EnrolPageResult {
  enrolled: number;
  /** The last account id of this page; absent when the segment is exhausted. */
  nextCursor?: string;
}

// Workflow starts (and signals) in flight at once per activity.
const START_CONCURRENCY = 64;

function workflowInput(
  campaignId: string,
  enrolment: { id: string; accountId: string },
  { account, variant }: { account: { jurisdiction: string; timeZone: string | null; daysPastDue: number; balanceMinor: bigint }; variant: Variant },
): AccountWorkflowInput {
  if ("holdout" in variant) throw new Error(`holdout enrolment ${enrolment.id} must not start a workflow`);
  return {
    campaignId,
    accountId: enrolment.accountId,
    enrolmentId: enrolment.id,
    strategy: variant.strategy,
    timeZone: account.timeZone ?? policyFor(account.jurisdiction).timeZones[0]!,
    daysPastDue: account.daysPastDue,
    balanceMinor: account.balanceMinor.toString(),
  };
}

export function createEnrolmentActivities({ db, temporal, logger, settings }: ActivityDeps) {
  // On the worker's own connection the server hands each account's first workflow task back
  // with the start, to this worker: no trip through the task queue. Other clients cannot.
  const eager = temporal.connection instanceof NativeConnection;
  return {
    /**
     * Enrols one page of the campaign's segment and starts an account workflow for each.
     * Safe to repeat: enrolments are unique per (campaign, account) and workflow ids are
     * derived from both, with duplicates rejected even after the first run finished.
     */
    async enrolPage(input: { campaignId: string; cursor?: string }): Promise<EnrolPageResult> {
      const campaign = await db.campaign.findUniqueOrThrow({ where: { id: input.campaignId } });
      const accounts = await db.account.findMany({
        where: { ...segmentWhere(campaign.segment as Segment), ...(input.cursor ? { id: { gt: input.cursor } } : {}) },
        orderBy: { id: "asc" },
        take: settings.enrolPageSize,
        select: { id: true, jurisdiction: true, timeZone: true, daysPastDue: true, balanceMinor: true },
      });
      if (accounts.length === 0) return { enrolled: 0 };
      const { variants } = campaign.strategy as unknown as CampaignStrategy;
      const assigned = accounts.map((a) => ({ account: a, variant: assignVariant(campaign.id, a.id, variants) }));
      // The holdout gets no contact at all: its enrolment is finished at once.
      await db.enrolment.createMany({
        data: assigned.map(({ account, variant }) => ({
          campaignId: campaign.id,
          accountId: account.id,
          workflowId: accountWorkflowId(campaign.id, account.id),
          variant: variant.name,
          daysPastDueAtStart: account.daysPastDue,
          balanceMinorAtStart: account.balanceMinor,
          ...("holdout" in variant ? { status: "finished" as const, outcome: "holdout", finishedAt: new Date() } : {}),
        })),
        skipDuplicates: true,
      });
      const enrolments = await db.enrolment.findMany({
        where: { campaignId: campaign.id, accountId: { in: accounts.map((a) => a.id) }, status: "enrolled" },
        select: { id: true, accountId: true, workflowId: true },
      });
      const byAccount = new Map(assigned.map((a) => [a.account.id, a]));
      // A pool, not batches: one slow start must not hold up the other starts in flight.
      let started = 0;
      await pMap(
        enrolments,
        async (e) => {
          try {
            await temporal.workflow.start("accountWorkflow", {
              taskQueue: settings.taskQueue,
              workflowId: e.workflowId,
              workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
              requestEagerStart: eager,
              args: [workflowInput(campaign.id, e, byAccount.get(e.accountId)!)],
            });
          } catch (error) {
            if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
          }
          if (++started % 8 === 0) Context.current().heartbeat(started);
        },
        { concurrency: START_CONCURRENCY },
      );
      await db.enrolment.updateMany({ where: { id: { in: enrolments.map((e) => e.id) }, status: "enrolled" }, data: { status: "running" } });
      logger.info({ campaignId: campaign.id, enrolled: enrolments.length }, "enrolled a page of accounts");
      return { enrolled: enrolments.length, nextCursor: accounts.length === settings.enrolPageSize ? accounts.at(-1)!.id : undefined };
    },

    /** Passes pause, resume or cancel on to every account workflow of the campaign still running. */
    async signalEnrolments(input: { campaignId: string; signal: "pause" | "resume" | "cancel" }): Promise<number> {
      let signalled = 0;
      let cursor: string | undefined;
      for (;;) {
        const page = await db.enrolment.findMany({
          where: { campaignId: input.campaignId, status: "running", ...(cursor ? { id: { gt: cursor } } : {}) },
          orderBy: { id: "asc" },
          take: 500,
          select: { id: true, workflowId: true },
        });
        if (page.length === 0) return signalled;
        await pMap(
          page,
          (e) =>
            temporal.workflow
              .getHandle(e.workflowId)
              .signal(input.signal)
              .catch((error: unknown) => {
                // An account that finished meanwhile has nothing to pause.
                if (!(error instanceof WorkflowNotFoundError)) throw error;
              }),
          { concurrency: START_CONCURRENCY },
        );
        Context.current().heartbeat(signalled);
        signalled += page.length;
        cursor = page.at(-1)!.id;
      }
    },

    /** Marks the campaign completed when no account is still on its journey. */
    async completeCampaignIfDone(input: { campaignId: string }): Promise<boolean> {
      const open = await db.enrolment.count({ where: { campaignId: input.campaignId, status: { in: ["enrolled", "running"] } } });
      if (open > 0) return false;
      await db.campaign.updateMany({ where: { id: input.campaignId, status: { in: ["running", "paused"] } }, data: { status: "completed" } });
      return true;
    },
  };
}
