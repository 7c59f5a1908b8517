// Exactly one SMS per (account, campaign, step) when the worker process is killed in the
// middle of a campaign's sends and another one takes over.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { repoRoot } from "../runtime/config.ts";
import type { VendorSandbox } from "../sandbox/index.ts";
import { createTwilioClient } from "../vendors/twilio.ts";
import { createSmsSender } from "../activities/channels/sms.ts";
import { createVoiceSender } from "../activities/channels/voice.ts";
import { createActivities } from "../activities/index.ts";
import { createLogger } from "../runtime/logger.ts";
import type { startTestStack } from "./stack.ts";
import { accountFixture, api, eventually, startTestStackWithSandbox } from "./stack.ts";

const twilio = { accountSid: `AC${randomBytes(16).toString("hex")}`, authToken: randomBytes(16).toString("hex") };
const taskQueue = `crash-${randomUUID()}`;
let sandbox: VendorSandbox;
let stack: Awaited<ReturnType<typeof startTestStack>>;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  // One sandbox shared by the API (in this process) and the worker processes.
  ({ stack, sandbox } = await startTestStackWithSandbox(
    twilio,
    { outcomes: { sms: { delivered: 1 } }, delayMs: { min: 0, max: 50 } },
    { TAGIH_ROLE: "api", TEMPORAL_TASK_QUEUE: taskQueue },
  ));
});
afterAll(async () => {
  for (const w of workers) w.kill("SIGKILL");
  await stack?.stop();
  await sandbox?.close();
});

/** A worker in a process of its own, as `TAGIH_ROLE=worker npm start` runs it: compiled (dist/, built by setup). */
async function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(repoRoot, "dist", "runtime", "main.js")], {
    cwd: repoRoot,
    env: {
      ...process.env,
      TAGIH_ROLE: "worker",
      LOG_LEVEL: "warn",
      DATABASE_URL: inject("databaseUrl"),
      TEMPORAL_ADDRESS: inject("temporalAddress"),
      TEMPORAL_TASK_QUEUE: taskQueue,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TAGIH_TWILIO_API_URL: sandbox.url,
      PUBLIC_BASE_URL: stack.config.publicBaseUrl,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  workers.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => String(d).includes("Tagih worker is running") && resolve());
    child.once("exit", (code) => reject(new Error(`worker exited with ${code}`)));
  });
  return child;
}

/** What the campaign's unfinished journeys are doing: their attempts, the callbacks about them, and what their workflows say they wait for. */
async function unfinished(campaignId: string) {
  const enrolments = await stack.db.enrolment.findMany({ where: { campaignId, status: { not: "finished" } }, include: { attempts: true } });
  return Promise.all(
    enrolments.map(async (e) => ({
      enrolment: e.id,
      status: e.status,
      attempts: await Promise.all(
        e.attempts.map(async (a) => ({
          status: a.status,
          vendorId: a.vendorId,
          callbacks: a.vendorId
            ? (await stack.db.callback.findMany({ where: { eventId: { startsWith: a.vendorId } } })).map((c) => ({
                event: c.eventId,
                applied: c.appliedAt,
                signal: c.signal !== null,
                signalled: c.signalledAt,
              }))
            : [],
        })),
      ),
      workflow: await stack.temporal.workflow
        .getHandle(e.workflowId)
        .query("accountState")
        .catch((error: unknown) => String(error)),
    })),
  );
}

describe("a worker killed mid-campaign", () => {
  it("another worker finishes the campaign and the sandbox receives each SMS exactly once", { timeout: 300_000 }, async () => {
    const product = `crash-${randomUUID()}`;
    const accounts = Array.from({ length: 48 }, () => accountFixture({ product }));
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts })).status).toBe(200);
    const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "crash",
      strategy: { steps: [{ id: "sms", kind: "contact", channel: "sms", template: "reminder" }] },
      segment: { products: [product] },
    });
    const first = await startWorker();
    await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.body.id}/launch`);
    const phones = new Set((await stack.db.account.findMany({ where: { product }, select: { phone: true } })).map((a) => a.phone));
    const sentTo = () => sandbox.messages().filter((m) => phones.has(m.to));
    // Polled tightly (the sandbox is in this process): a worker sends a few dozen SMS a second,
    // and the kill must land in the middle of the campaign.
    const deadline = Date.now() + 60_000;
    while (sentTo().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    first.kill("SIGKILL");
    const killedAfter = sentTo().length;

    await startWorker();
    await eventually(
      async () => {
        const s = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaign.body.id}/summary`);
        return s.body.finished === 48 ? s.body : undefined;
      },
      "all 48 accounts finished",
      240_000,
    ).catch(async (error: unknown) => {
      const pending = await stack.db.callback.findMany({ where: { appliedAt: null }, select: { eventId: true, receivedAt: true }, take: 50 });
      throw new Error(
        `${String(error)}; unfinished: ${JSON.stringify(await unfinished(campaign.body.id), null, 1)}; callbacks not applied: ${JSON.stringify(pending)}`,
      );
    });
    const perPhone = new Map<string, number>();
    for (const m of sentTo()) perPhone.set(m.to, (perPhone.get(m.to) ?? 0) + 1);
    expect(killedAfter).toBeGreaterThan(0);
    expect(killedAfter).toBeLessThan(48);
    expect(perPhone.size).toBe(48);
    expect([...perPhone.values()].every((n) => n === 1)).toBe(true);
    const attempts = await stack.db.contactAttempt.findMany({ where: { enrolment: { campaignId: campaign.body.id } } });
    expect(attempts).toHaveLength(48);
    expect(new Set(attempts.map((a) => a.vendorId)).size).toBe(48);
  });

  it.each(["sms", "voice"] as const)(
    "a %s retry after the vendor accepted but before the SID was stored finds the message or call instead of sending again",
    async (channel) => {
      // An unanswered call fetches no script: only Twilio's call log can tell the retry it was placed.
      sandbox.setOutcomes({ voice: { "no-answer": 1 } });
      const product = `window-${randomUUID()}`;
      await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [accountFixture({ product })] });
      const account = await stack.db.account.findFirstOrThrow({ where: { product } });
      const c = await stack.db.campaign.create({ data: { name: "window", strategy: {} } });
      const e = await stack.db.enrolment.create({ data: { campaignId: c.id, accountId: account.id, workflowId: `window-${randomUUID()}`, status: "running" } });
      const client = createTwilioClient({ ...twilio, apiBaseUrl: sandbox.url });
      const { publicBaseUrl, smsFrom, voiceFrom, creditorName } = stack.config;
      const activities = createActivities({
        db: stack.db,
        sql: stack.sql,
        senders: {
          sms: createSmsSender({ db: stack.db, twilio: client, from: smsFrom, creditorName, statusCallback: `${publicBaseUrl}/v1/webhooks/twilio/status` }),
          voice: createVoiceSender({ db: stack.db, twilio: client, from: voiceFrom, publicBaseUrl }),
        },
        temporal: stack.temporal,
        logger: createLogger("silent"),
        clock: () => new Date(),
        settings: { publicBaseUrl, taskQueue, enrolPageSize: 1, privateEndpoints: "allow" },
      });
      const reserved = await activities.reserveContact({ enrolmentId: e.id, stepId: channel, channel, at: Date.now() });
      if (!reserved.allowed) throw new Error(`the gate should allow this contact: ${JSON.stringify(reserved)}`);
      // The first try: marked dispatching, the vendor accepted, then the worker died.
      const sent = await activities.sendContact({ attemptId: reserved.attemptId, template: "reminder" });
      await stack.db.contactAttempt.update({ where: { id: reserved.attemptId }, data: { vendorId: null, status: "dispatching", statusRank: 0 } });
      await sandbox.idle();
      const retried = await activities.sendContact({ attemptId: reserved.attemptId, template: "reminder" });
      const received = (channel === "sms" ? sandbox.messages() : sandbox.calls()).filter((m) => m.to === account.phone);
      expect(received).toHaveLength(1);
      expect((await stack.db.contactAttempt.findUniqueOrThrow({ where: { id: retried.attemptId } })).vendorId).toBe(received[0]!.sid);
      expect(sent.attemptId).toBe(retried.attemptId);
    },
  );
});
