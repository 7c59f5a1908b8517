import { Context } from "@temporalio/activity";
import { WorkflowExecutionAlreadyStartedError } from "@temporalio/client";
import { WorkflowIdReusePolicy } from "@temporalio/common";
import { accountWorkflowId } from "../domain/workflow-ids.ts";
import { segmentWhere, type Segment } from "../domain/segment.ts";
import type { Strategy } from "../domain/strategy.ts";
import type { ActivityDeps } from "./types.ts";

export interface EnrolPageResult {
  enrolled: number;
  /** The last account id of this page; absent when the segment is exhausted. */
  nextCursor?: string;
}

const START_CONCURRENCY = 32;

export function createEnrolmentActivities({ db, temporal, logger, settings }: ActivityDeps) {
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
        select: { id: true },
      });
      if (accounts.length === 0) return { enrolled: 0 };
      await db.enrolment.createMany({
        data: accounts.map((a) => ({ campaignId: campaign.id, accountId: a.id, workflowId: accountWorkflowId(campaign.id, a.id) })),
        skipDuplicates: true,
      });
      const enrolments = await db.enrolment.findMany({
        where: { campaignId: campaign.id, accountId: { in: accounts.map((a) => a.id) }, status: "enrolled" },
        select: { id: true, accountId: true, workflowId: true },
      });
      const strategy = campaign.strategy as unknown as Strategy;
      for (let i = 0; i < enrolments.length; i += START_CONCURRENCY) {
        await Promise.all(
          enrolments.slice(i, i + START_CONCURRENCY).map(async (e) => {
            try {
              await temporal.workflow.start("accountWorkflow", {
                taskQueue: settings.taskQueue,
                workflowId: e.workflowId,
                workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
                args: [{ campaignId: campaign.id, accountId: e.accountId, enrolmentId: e.id, strategy }],
              });
            } catch (error) {
              if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
            }
          }),
        );
        Context.current().heartbeat(i);
      }
      await db.enrolment.updateMany({ where: { id: { in: enrolments.map((e) => e.id) }, status: "enrolled" }, data: { status: "running" } });
      logger.info({ campaignId: campaign.id, enrolled: enrolments.length }, "enrolled a page of accounts");
      return { enrolled: enrolments.length, nextCursor: accounts.length === settings.enrolPageSize ? accounts.at(-1)!.id : undefined };
    },

    /** Records how an account's journey through the campaign ended. */
    async finishEnrolment(input: { enrolmentId: string; outcome: string }): Promise<void> {
      await db.enrolment.update({ where: { id: input.enrolmentId }, data: { status: "finished", outcome: input.outcome, finishedAt: new Date() } });
    },
  };
}
