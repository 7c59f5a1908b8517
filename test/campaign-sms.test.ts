import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountFixture, api, eventually, startTestStack } from "./stack.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** Creates accounts of a product of their own and a one-step SMS campaign over them. */
async function campaignOver(accounts: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  const product = `loan-${randomUUID()}`;
  const stored = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: accounts.map((a) => ({ ...a, product })) });
  expect(stored.status, JSON.stringify(stored.body)).toBe(200);
  const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", {
    name: "December reminders",
    strategy: { steps: [{ id: "reminder-sms", kind: "contact", channel: "sms", template: "reminder" }] },
    segment: { products: [product] },
    ...extra,
  });
  expect(campaign.status).toBe(201);
  return campaign.body.id as string;
}

async function finished(campaignId: string, count: number) {
  return eventually(async () => {
    const summary = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/summary`);
    return summary.body.finished === count ? summary.body : undefined;
  }, `${count} finished enrolments`);
}

describe("an SMS campaign end to end", () => {
  it("sends one rendered SMS per account through Twilio's SDK and counts the delivered callbacks", async () => {
    const accounts = [
      accountFixture({ name: "Budi Santoso" }),
      accountFixture({ name: "Asha Rao", locale: "en-IN", currency: "INR", balanceMinor: 2_500_000 }),
      accountFixture({ name: "Wanjiru Kamau", locale: "sw-KE", currency: "KES", balanceMinor: 250_050 }),
    ];
    const [budi, asha, wanjiru] = accounts.map((a) => a.phone) as [string, string, string];
    const campaignId = await campaignOver(accounts);

    const launched = await api(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/launch`);
    expect(launched.status).toBe(202);
    expect(launched.body).toMatchObject({ status: "running", alreadyLaunched: false });

    const summary = await finished(campaignId, 3);
    expect(summary).toMatchObject({ enrolled: 3, attempted: 3, delivered: 3, failed: 0, outcomes: { contacted: 3 } });
    expect(["running", "completed"]).toContain(summary.phase);

    const messages = stack.sandbox!.messages().filter((m) => [budi, asha, wanjiru].includes(m.to));
    expect(messages.map((m) => m.to).sort()).toEqual([budi, asha, wanjiru].sort());
    const byTo = Object.fromEntries(messages.map((m) => [m.to, m.body.replace(/\u00a0/g, " ")]));
    expect(byTo[budi]).toBe(
      "Halo Budi, ini Tagih Demo Lender. Tagihan Anda sebesar Rp 1.500.000 jatuh tempo pada 25 Desember 2026. Balas STOP untuk berhenti.",
    );
    expect(byTo[asha]).toContain("₹25,000.00 is due on 25 December 2026");
    expect(byTo[wanjiru]).toContain("Ksh 2,500.50");

    const attempts = await stack.db.contactAttempt.findMany({ where: { enrolment: { campaignId } } });
    expect(attempts.map((a) => a.vendorId).sort()).toEqual(messages.map((m) => m.sid).sort());
    expect(attempts.every((a) => a.status === "delivered")).toBe(true);
  });

  it("launching twice never enrols or sends twice", async () => {
    const campaignId = await campaignOver([accountFixture(), accountFixture()]);
    const [first, second] = await Promise.all([
      api(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/launch`),
      api(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/launch`),
    ]);
    expect([first.status, second.status]).toContain(202);
    await finished(campaignId, 2);
    const again = await api(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/launch`);
    expect(again.status).toBe(200);
    expect(again.body.alreadyLaunched).toBe(true);
    await stack.sandbox!.idle();
    const summary = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/summary`);
    expect(summary.body).toMatchObject({ enrolled: 2, attempted: 2 });
    const attempts = await stack.db.contactAttempt.findMany({ where: { enrolment: { campaignId } } });
    const sids = new Set(attempts.map((a) => a.vendorId));
    expect(stack.sandbox!.messages().filter((m) => sids.has(m.sid))).toHaveLength(2);
  });

  it("counts undelivered messages as failed and the accounts as not contacted", async () => {
    stack.sandbox!.setOutcomes({ sms: { undelivered: 1 } });
    try {
      const campaignId = await campaignOver([accountFixture()]);
      await api(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/launch`);
      const summary = await finished(campaignId, 1);
      expect(summary).toMatchObject({ attempted: 1, delivered: 0, failed: 1, outcomes: { "not-contacted": 1 } });
      const [attempt] = await stack.db.contactAttempt.findMany({ where: { enrolment: { campaignId } } });
      expect(attempt!.errorCode).toMatch(/^300\d\d$/);
    } finally {
      stack.sandbox!.setOutcomes({ sms: { delivered: 1 } });
    }
  });

  it("counts attempted, delivered and failed as the campaign report does: a vendor's refusal is attempted, ours before sending is not", async () => {
    // One delivered; two that leave the gate but fail before any vendor id: Twilio refuses the
    // number at once (21211: attempted and failed, not billed), the other account has no phone
    // (never handed to Twilio: not attempted); one the gate refuses (opted out of SMS).
    const optedOut = accountFixture();
    const accountsOf = [accountFixture(), accountFixture({ phone: "+15005550001" }), accountFixture({ phone: undefined }), optedOut];
    const campaignId = await campaignOver(accountsOf);
    const account = await stack.db.account.findUniqueOrThrow({ where: { externalId: optedOut.externalId } });
    expect((await api(stack.apiUrl, "POST", `/v1/accounts/${account.id}/opt-outs`, { channel: "sms" })).status).toBe(200);
    await api(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/launch`);
    const summary = await finished(campaignId, 4);
    await stack.sandbox!.idle();

    const attempts = await stack.db.contactAttempt.findMany({ where: { enrolment: { campaignId } } });
    expect(attempts.map((a) => [a.status, a.errorCode, a.vendorId !== null]).sort()).toEqual([
      ["delivered", null, true],
      ["failed", "21211", false],
      ["failed", "no-phone", false],
    ]);
    const refused = await stack.db.complianceDecision.findMany({ where: { accountId: account.id, allowed: false } });
    expect(refused.map((d) => JSON.stringify(d.reasons))).toEqual([expect.stringContaining("opt-out")]);
    // Ops and managers read why, without the database (roles: access.test.ts).
    const why = await api(stack.apiUrl, "GET", `/v1/accounts/${account.id}/decisions`);
    expect(why.status, JSON.stringify(why.body)).toBe(200);
    expect(why.body).toEqual({
      items: [
        expect.objectContaining({
          campaignId,
          stepId: "reminder-sms",
          channel: "sms",
          allowed: false,
          reasons: [expect.objectContaining({ rule: "opt-out" })],
          nextAllowedAt: null,
          attemptId: null,
          policy: expect.stringMatching(/^IN@/),
        }),
      ],
      nextCursor: null,
    });
    const delivered = await stack.db.account.findUniqueOrThrow({ where: { externalId: accountsOf[0]!.externalId } });
    const pages = await api(stack.apiUrl, "GET", `/v1/accounts/${delivered.id}/decisions?limit=1`);
    expect(pages.body.items).toEqual([expect.objectContaining({ allowed: true, attemptId: expect.any(String), campaignId })]);
    expect((await api(stack.apiUrl, "GET", `/v1/accounts/${randomUUID()}/decisions`)).status).toBe(404);
    expect(summary).toMatchObject({ enrolled: 4, attempted: 2, delivered: 1, failed: 1 });
    const report = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/report?by=channel&from=2000-01-01&to=2100-12-31`);
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    const total = (field: string) => report.body.totals.reduce((sum: number, t: Record<string, number>) => sum + Number(t[field]), 0);
    expect([summary.attempted, summary.delivered, summary.failed]).toEqual([total("attempted"), total("delivered"), total("undelivered")]);
    // Billed: the segments of the one message Twilio accepted; worked: the two accounts handed to Twilio.
    const accepted = attempts.find((a) => a.vendorId !== null)!;
    expect(accepted.units).toBeGreaterThan(0);
    expect([total("units"), total("touched")]).toEqual([accepted.units, 2]);
  });

  it("enrols only the accounts in the campaign's segment", async () => {
    const product = `loan-${randomUUID()}`;
    await api(stack.apiUrl, "POST", "/v1/accounts", {
      accounts: [
        accountFixture({ product, daysPastDue: 5 }),
        accountFixture({ product, daysPastDue: 45 }),
        accountFixture({ product, daysPastDue: 95 }),
        // Owes nothing any more: before, enrolled and counted at once as the campaign's "paid".
        accountFixture({ product, daysPastDue: 45, balanceMinor: 0 }),
      ],
    });
    const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "31-60 bucket",
      strategy: { steps: [{ id: "sms", kind: "contact", channel: "sms", template: "reminder" }] },
      segment: { products: [product], daysPastDue: { min: 31, max: 60 } },
    });
    await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.body.id}/launch`);
    const summary = await finished(campaign.body.id, 1);
    expect(summary.enrolled).toBe(1);
  });
});

describe("the API's health and documents", () => {
  it("is ready when PostgreSQL and Temporal answer", async () => {
    expect((await api(stack.apiUrl, "GET", "/healthz")).body).toEqual({ status: "ok" });
    expect((await api(stack.apiUrl, "GET", "/readyz")).body).toEqual({ status: "ready", database: "ok", temporal: "ok" });
  });

  it("serves the OpenAPI document and the docs page", async () => {
    const doc = await api(stack.apiUrl, "GET", "/openapi.json");
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(["/v1/accounts", "/v1/campaigns", "/v1/campaigns/{id}/launch", "/v1/webhooks/twilio/status"]),
    );
    const page = await fetch(`${stack.apiUrl}/docs`);
    expect(await page.text()).toContain("/docs/swagger-ui-bundle.js");
    expect((await fetch(`${stack.apiUrl}/docs/swagger-ui-bundle.js`)).status).toBe(200);
  });
});

describe("campaign variants and controls", () => {
  it("assigns stable weighted variants and never contacts the holdout", async () => {
    const product = `loan-${randomUUID()}`;
    await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: Array.from({ length: 8 }, () => accountFixture({ product })) });
    const strategy = { steps: [{ id: "sms", kind: "contact", channel: "sms", template: "reminder" }] };
    const created = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "champion vs challenger",
      variants: [
        { name: "champion", weight: 50, strategy },
        { name: "challenger", weight: 25, strategy },
        { name: "holdout", weight: 25, holdout: true },
      ],
      segment: { products: [product] },
    });
    expect(created.status).toBe(201);
    await api(stack.apiUrl, "POST", `/v1/campaigns/${created.body.id}/launch`);
    await finished(created.body.id, 8);
    const { assignVariant } = await import("../domain/variant.ts");
    const enrolments = await stack.db.enrolment.findMany({ where: { campaignId: created.body.id }, include: { attempts: true } });
    for (const e of enrolments) {
      expect(e.variant).toBe(assignVariant(created.body.id, e.accountId, created.body.strategy.variants).name);
      if (e.variant === "holdout") expect(e).toMatchObject({ outcome: "holdout", attempts: [] });
      else expect(e.attempts).toHaveLength(1);
    }
  });

  it("pauses, resumes and cancels every account of a running campaign", async () => {
    const product = `loan-${randomUUID()}`;
    await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [accountFixture({ product }), accountFixture({ product }), accountFixture({ product })] });
    const created = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "long strategy",
      strategy: {
        steps: [
          { id: "first-wait", kind: "wait", duration: "P7D" },
          { id: "sms", kind: "contact", channel: "sms", template: "reminder" },
        ],
      },
      segment: { products: [product] },
    });
    const id = created.body.id as string;
    await api(stack.apiUrl, "POST", `/v1/campaigns/${id}/launch`);
    const enrolments = await eventually(async () => {
      const rows = await stack.db.enrolment.findMany({ where: { campaignId: id, status: "running" } });
      return rows.length === 3 ? rows : undefined;
    }, "3 running enrolments");
    const states = () =>
      Promise.all(enrolments.map((e) => stack.temporal.workflow.getHandle(e.workflowId).query<{ paused: boolean; waitingFor: string | null }>("accountState")));

    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${id}/pause`)).body.status).toBe("paused");
    await eventually(async () => ((await states()).every((s) => s.paused && s.waitingFor === "campaign resumed") ? true : undefined), "every account paused");
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${id}/pause`)).status).toBe(200);
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${id}/resume`)).body.status).toBe("running");
    await eventually(
      async () => ((await states()).every((s) => !s.paused && s.waitingFor === "wait step first-wait") ? true : undefined),
      "every account resumed",
    );

    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${id}/cancel`)).body.status).toBe("cancelled");
    const summary = await eventually(async () => {
      const s = await api(stack.apiUrl, "GET", `/v1/campaigns/${id}/summary`);
      return s.body.outcomes.cancelled === 3 ? s.body : undefined;
    }, "every account cancelled");
    // Cancelled journeys have finished: enrolled is running + finished, whatever the outcome.
    expect(summary).toMatchObject({ status: "cancelled", phase: "cancelled", enrolled: 3, running: 0, finished: 3, attempted: 0 });
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${id}/resume`)).status).toBe(409);
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${id}/launch`)).status).toBe(409);
  });
});
