// The account workflow under Temporal's time-skipping test server: days of waiting pass
// instantly, while the activities are the real ones (PostgreSQL, twilio SDK, sandbox).
import { TestWorkflowEnvironment } from "@temporalio/testing";
import { Worker } from "@temporalio/worker";
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { createActivities } from "../activities/index.ts";
import type { Strategy } from "../domain/strategy.ts";
import { createDatabase, type Database } from "../runtime/database.ts";
import { createLogger } from "../runtime/logger.ts";
import { toolPath } from "../runtime/temporal-dev-server.ts";
import { startVendorSandbox, type VendorSandbox } from "../sandbox/index.ts";
import { createTwilioClient } from "../vendors/twilio.ts";
import type { accountWorkflow } from "../workflows/account.ts";

const DAY = 24 * 3600 * 1000;
let env: TestWorkflowEnvironment;
let db: Database;
let sandbox: VendorSandbox;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `time-skipping-${randomUUID()}`;

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: "existing-path", path: toolPath("testServer") } } });
  db = createDatabase(inject("databaseUrl"), 5);
  const twilio = { accountSid: `AC${randomBytes(16).toString("hex")}`, authToken: randomBytes(16).toString("hex") };
  // Callbacks are held back for an hour of real time: within a test, no outcome ever arrives
  // unless the test signals one.
  sandbox = await startVendorSandbox({ twilio, outcomes: { sms: { delivered: 1 } }, delayMs: 3_600_000 });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: inject("workflowBundlePath") },
    activities: createActivities({
      db,
      twilio: createTwilioClient({ ...twilio, apiBaseUrl: sandbox.url }),
      temporal: env.client,
      logger: createLogger("warn"),
      settings: { publicBaseUrl: "http://127.0.0.1:9", smsFrom: "+15005550006", creditorName: "Bank Contoh", taskQueue, enrolPageSize: 10 },
    }),
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await sandbox?.close();
  await db?.$disconnect();
  await env?.teardown();
});

async function enrolment() {
  const account = await db.account.create({
    data: {
      externalId: `TS-${randomUUID()}`,
      name: "Wanjiru Kamau",
      phone: "+254712345678",
      jurisdiction: "KE",
      product: "device-loan",
      currency: "KES",
      balanceMinor: 250_050n,
      daysPastDue: 9,
      locale: "sw-KE",
    },
  });
  const campaign = await db.campaign.create({ data: { name: "time skipping", strategy: {} } });
  return db.enrolment.create({ data: { campaignId: campaign.id, accountId: account.id, workflowId: `account-${randomUUID()}` } });
}

const twoSteps: Strategy = {
  version: 1,
  steps: [
    { id: "first-sms", kind: "contact", channel: "sms", template: "reminder", waitForOutcome: "P2D" },
    { id: "second-sms", kind: "contact", channel: "sms", template: "reminder", waitForOutcome: "P3D" },
  ],
};

describe("account workflow (time skipping)", () => {
  it("waits the step's outcome window, then moves on and ends not contacted", async () => {
    const e = await enrolment();
    const start = await env.currentTimeMs();
    const outcome = await env.client.workflow.execute<typeof accountWorkflow>("accountWorkflow", {
      taskQueue,
      workflowId: e.workflowId,
      args: [{ campaignId: e.campaignId, accountId: e.accountId, enrolmentId: e.id, strategy: twoSteps }],
    });
    expect(outcome).toBe("not-contacted");
    expect((await env.currentTimeMs()) - start).toBeGreaterThanOrEqual(5 * DAY);
    const stored = await db.enrolment.findUniqueOrThrow({ where: { id: e.id }, include: { attempts: true } });
    expect(stored).toMatchObject({ status: "finished", outcome: "not-contacted" });
    expect(stored.attempts.map((a) => a.stepId).sort()).toEqual(["first-sms", "second-sms"]);
    const sids = new Set(stored.attempts.map((a) => a.vendorId));
    expect(sandbox.messages().filter((m) => sids.has(m.sid))).toHaveLength(2);
  });

  it("reports what it waits for, and a delivered outcome signal ends the wait at once", async () => {
    const e = await enrolment();
    const handle = await env.client.workflow.start<typeof accountWorkflow>("accountWorkflow", {
      taskQueue,
      workflowId: e.workflowId,
      args: [{ campaignId: e.campaignId, accountId: e.accountId, enrolmentId: e.id, strategy: { version: 1, steps: [twoSteps.steps[0]!] } }],
    });
    const attempt = await waitFor(() => db.contactAttempt.findFirst({ where: { enrolmentId: e.id, vendorId: { not: null } } }));
    const state = await waitFor(async () => {
      const s = await handle.query<{ stepId: string; waitingUntil: string | null }>("accountState");
      return s.waitingUntil ? s : undefined;
    });
    expect(state.stepId).toBe("first-sms");
    await handle.signal("contactOutcome", { attemptId: attempt.id, status: "delivered", outcome: "delivered" });
    expect(await handle.result()).toBe("contacted");
    // The outcome window's timer was cancelled by the signal, never fired.
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.timerFiredEventAttributes)).toBe(false);
    expect(events.some((e) => e.timerCanceledEventAttributes)).toBe(true);
  });
});

async function waitFor<T>(probe: () => Promise<T | null | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("condition not met within 20 s");
}
