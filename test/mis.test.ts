import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastEndedMonth } from "../domain/mis/snapshots.ts";
import { bucketSnapshotSchedule } from "../runtime/schedules.ts";
import { snapshotTakenAt } from "../store/portfolio-reports.ts";
import { accountFixture, api, eventually, startTestStack } from "./stack.ts";

// A seeded sandbox with a known mix of SMS and email outcomes; the campaign's report must
// equal counts taken here, independently, over the raw tables.
let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack({
    TAGIH_SANDBOX_SEED: "42",
    TAGIH_SANDBOX_OUTCOMES: JSON.stringify({
      sms: { delivered: 70, undelivered: 20, failed: 10 },
      email: { delivered: 75, bounce: 15, dropped: 10, open: 0.6, click: 0.3, unsubscribe: 0.15 },
    }),
  });
  // The counts below take UTC days; the reporting zone is the database's, whatever ran before.
  expect((await api(stack.apiUrl, "PUT", "/v1/reports/settings", { timeZone: "UTC" })).status).toBe(200);
});
afterAll(async () => {
  await stack?.stop();
});

// Per step and channel: the funnel, and the payments and promises credited to its touches.
const TOUCH = [
  "attempted",
  "delivered",
  "undelivered",
  "opened",
  "clicked",
  "replied",
  "optedOut",
  "units",
  "recoveredMinor",
  "payments",
  "conversions",
  "promises",
  "promisedMinor",
] as const;
// Per account, with no step or channel.
const ACCOUNT = ["enrolled", "outstandingMinor", "touched", "contacted", "collectedMinor", "unattributedMinor"] as const;
type Counts = Record<string, string>;

/** A three-variant SMS + email campaign over 40 accounts in three DPD buckets, run to the end. */
async function runCampaign() {
  const product = `loan-${randomUUID()}`;
  const accounts = Array.from({ length: 40 }, (_, i) =>
    accountFixture({
      product,
      email: `debtor-${i}-${randomUUID().slice(0, 6)}@example.com`,
      daysPastDue: [5, 45, 95][i % 3],
      balanceMinor: 100_000 + i * 1_000,
    }),
  );
  expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts })).status).toBe(200);
  const sms = { id: "sms-1", kind: "contact", channel: "sms", template: "reminder" };
  const email = { id: "email-1", kind: "contact", channel: "email", template: "reminder" };
  const created = await api(stack.apiUrl, "POST", "/v1/campaigns", {
    name: "MIS reconciliation",
    variants: [
      { name: "champion", weight: 45, strategy: { steps: [sms, email] } },
      { name: "challenger", weight: 40, strategy: { steps: [email] } },
      { name: "holdout", weight: 15, holdout: true },
    ],
    segment: { products: [product] },
  });
  expect(created.status).toBe(201);
  const campaignId = created.body.id as string;
  await api(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/launch`);
  await eventually(
    async () => ((await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/summary`)).body.finished === 40 ? true : undefined),
    "every account finished",
    90_000,
  );
  await stack.sandbox!.idle();
  // Late engagement events are applied before we count.
  await eventually(async () => {
    // This campaign's events only: other test files share the database.
    const [row] = await stack.db.$queryRaw<{ pending: bigint }[]>`
      SELECT count(*) AS pending FROM callbacks
       WHERE vendor = 'sendgrid' AND applied_at IS NULL AND payload ->> 'campaignId' = ${campaignId}`;
    return row?.pending === 0n ? true : undefined;
  }, "events applied");

  // Payments from a third of the accounts, two from one of them, and a promise before one payment.
  const rows = await stack.db.account.findMany({ where: { product }, orderBy: { externalId: "asc" } });
  const promised = rows[1]!;
  expect(
    (
      await api(stack.apiUrl, "POST", `/v1/accounts/${promised.id}/promises`, {
        amountMinor: "50000",
        dueDate: new Date(Date.now() + 300 * 86_400_000).toISOString().slice(0, 10),
      })
    ).status,
  ).toBe(200);
  for (const [i, account] of rows.entries()) {
    if (i % 3 !== 1) continue;
    const pay = (n: number, amount: string) =>
      api(stack.apiUrl, "POST", `/v1/accounts/${account.id}/payments`, {
        reference: `PAY-${account.id}-${n}`,
        amountMinor: amount,
        currency: account.currency,
      });
    expect((await pay(1, String(10_000 + i * 100))).status).toBe(200);
    if (i === 4) expect((await pay(2, "7000")).status).toBe(200);
  }
  return campaignId;
}

/** The same figures, counted here over the raw tables with SQL of this test's own. */
async function independentCounts(campaignId: string): Promise<Map<string, Counts>> {
  const bucket = `CASE WHEN e.days_past_due_at_start <= 0 THEN 'current' WHEN e.days_past_due_at_start <= 30 THEN '1-30'
                       WHEN e.days_past_due_at_start <= 60 THEN '31-60' WHEN e.days_past_due_at_start <= 90 THEN '61-90' ELSE '90+' END`;
  const funnel = await stack.db.$queryRawUnsafe<Counts[]>(
    `SELECT e.variant, t.step_id AS step, t.channel, ${bucket} AS "dpdBucket",
            count(*)::text AS attempted,
            count(*) FILTER (WHERE t.status IN ('delivered', 'read'))::text AS delivered,
            count(*) FILTER (WHERE t.status IN ('undelivered', 'failed', 'canceled'))::text AS undelivered,
            count(*) FILTER (WHERE t.opened_at IS NOT NULL OR t.status = 'read')::text AS opened,
            count(*) FILTER (WHERE t.clicked_at IS NOT NULL)::text AS clicked,
            count(*) FILTER (WHERE t.replied_at IS NOT NULL AND t.channel <> 'voice')::text AS replied,
            count(*) FILTER (WHERE t.opted_out_at IS NOT NULL)::text AS "optedOut",
            sum(CASE WHEN t.vendor_id IS NULL THEN 0 ELSE COALESCE(t.units, 1) END)::text AS units
       FROM contact_attempts t JOIN enrolments e ON e.id = t.enrolment_id
      WHERE e.campaign_id = $1::uuid AND t.status NOT IN ('pending', 'dispatching') AND (t.sent_at IS NOT NULL OR t.vendor_id IS NOT NULL)
      GROUP BY 1, 2, 3, 4`,
    campaignId,
  );
  // Each payment since enrolment, and each promise, goes to the last eligible touch before it
  // (every window is still open: the campaign ran minutes ago), else it is unattributed.
  const lastTouch = (at: string) => `(SELECT t.id FROM contact_attempts t WHERE t.enrolment_id = e.id AND COALESCE(t.sent_at, t.created_at) <= ${at}
                  AND ((t.channel IN ('sms', 'whatsapp') AND t.status IN ('delivered', 'read'))
                       OR (t.channel = 'email' AND (t.opened_at IS NOT NULL OR t.clicked_at IS NOT NULL)))
                ORDER BY COALESCE(t.sent_at, t.created_at) DESC LIMIT 1)`;
  const pay = `pay AS (
       SELECT e.id AS enrolment_id, y.id, y.amount_minor, y.paid_at, ${lastTouch("y.paid_at")} AS touch
         FROM enrolments e JOIN payments y ON y.account_id = e.account_id AND y.paid_at >= e.enrolled_at
        WHERE e.campaign_id = $1::uuid)`;
  const credited = await stack.db.$queryRawUnsafe<Counts[]>(
    `WITH ${pay},
     first_paid AS (SELECT DISTINCT ON (enrolment_id) enrolment_id, touch FROM pay WHERE touch IS NOT NULL ORDER BY enrolment_id, paid_at, id),
     promised AS (SELECT e.id AS enrolment_id, p.amount_minor, ${lastTouch("p.created_at")} AS touch
                    FROM enrolments e JOIN promises p ON p.account_id = e.account_id WHERE e.campaign_id = $1::uuid),
     credit AS (
       SELECT touch, amount_minor AS recovered, 1 AS payments, 0 AS conversions, 0 AS promises, 0 AS promised FROM pay WHERE touch IS NOT NULL
       UNION ALL SELECT touch, 0, 0, 1, 0, 0 FROM first_paid
       UNION ALL SELECT touch, 0, 0, 0, 1, amount_minor FROM promised WHERE touch IS NOT NULL)
     SELECT e.variant, t.step_id AS step, t.channel, ${bucket} AS "dpdBucket",
            sum(c.recovered)::text AS "recoveredMinor", sum(c.payments)::text AS payments, sum(c.conversions)::text AS conversions,
            sum(c.promises)::text AS promises, sum(c.promised)::text AS "promisedMinor"
       FROM credit c JOIN contact_attempts t ON t.id = c.touch JOIN enrolments e ON e.id = t.enrolment_id
      GROUP BY 1, 2, 3, 4`,
    campaignId,
  );
  const accounts = await stack.db.$queryRawUnsafe<Counts[]>(
    `WITH ${pay}
     SELECT e.variant, ${bucket} AS "dpdBucket",
            count(*)::text AS enrolled, sum(e.balance_minor_at_start)::text AS "outstandingMinor",
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM contact_attempts t WHERE t.enrolment_id = e.id AND t.status NOT IN ('pending', 'dispatching')))::text AS touched,
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM contact_attempts t WHERE t.enrolment_id = e.id
                                           AND (t.clicked_at IS NOT NULL OR t.replied_at IS NOT NULL OR t.conversation_at IS NOT NULL)))::text AS contacted,
            COALESCE(sum((SELECT sum(amount_minor) FROM pay WHERE pay.enrolment_id = e.id)), 0)::text AS "collectedMinor",
            COALESCE(sum((SELECT sum(amount_minor) FROM pay WHERE pay.enrolment_id = e.id AND touch IS NULL)), 0)::text AS "unattributedMinor"
       FROM enrolments e WHERE e.campaign_id = $1::uuid GROUP BY 1, 2`,
    campaignId,
  );
  const cells = new Map<string, Counts>();
  const none = Object.fromEntries(TOUCH.map((name) => [name, "0"]));
  for (const row of funnel) cells.set(`${row.variant}|${row.step}|${row.channel}|${row.dpdBucket}`, { ...none, ...row });
  for (const row of credited) Object.assign(cells.get(`${row.variant}|${row.step}|${row.channel}|${row.dpdBucket}`)!, row);
  for (const row of accounts) cells.set(`${row.variant}|||${row.dpdBucket}`, row);
  return cells;
}

describe("a campaign's MIS report", () => {
  let campaignId: string;
  beforeAll(async () => {
    campaignId = await runCampaign();
  }, 180_000);

  it("equals independent counts over the raw tables, cell by cell", async () => {
    const report = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/report?by=variant,step,channel,dpdBucket&from=2000-01-01&to=2100-12-31`);
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    expect(report.body).toMatchObject({
      campaignId,
      grain: ["variant", "step", "channel", "dpdBucket", "currency"],
      period: { from: "2000-01-01", to: "2100-12-31", timeZone: "UTC" },
      attribution: { windowDays: { sms: 7, whatsapp: 7, voice: 7, email: 5 } },
    });
    const expected = await independentCounts(campaignId);
    const seen = new Set<string>();
    for (const row of report.body.rows) {
      const key = `${row.variant}|${row.step ?? ""}|${row.channel ?? ""}|${row.dpdBucket}`;
      const want = expected.get(key);
      const names = row.step === null ? ACCOUNT : TOUCH;
      if (!want) {
        // A cell the raw tables do not have may exist only with nothing in it.
        for (const name of names) expect(Number(row[name]), `${key} ${name}`).toBe(0);
        continue;
      }
      seen.add(key);
      for (const name of names) expect(String(row[name]), `${key} ${name}`).toBe(String(want[name]));
    }
    expect([...seen].sort()).toEqual([...expected.keys()].sort());
    // Rows come in the grain's order, then currency (account-level rows, with no step, first).
    const order = report.body.rows.map((r: Record<string, string | null>) =>
      [r.variant, r.step ?? "", r.channel ?? "", r.dpdBucket, r.currency].join("\u0000"),
    );
    expect(order).toEqual([...order].sort());

    // The mix really produced every kind of figure the test compares.
    const totals = report.body.totals[0];
    for (const name of ["attempted", "delivered", "undelivered", "opened", "clicked", "optedOut", "conversions", "promises"]) {
      expect(Number(totals[name]), name).toBeGreaterThan(0);
    }
    expect(BigInt(totals.recoveredMinor) + BigInt(totals.unattributedMinor)).toBe(BigInt(totals.collectedMinor));
    expect(totals.deliveryRate).toBeCloseTo(totals.delivered / (totals.delivered + totals.undelivered), 12);
    expect(totals.costSms).toBeGreaterThan(0);
    // Opens and clicks are over delivered email (this mix sends no WhatsApp): an SMS can be neither.
    const [delivered] = await stack.db.$queryRaw<{ emails: bigint }[]>`
      SELECT count(*) AS emails FROM contact_attempts a JOIN enrolments e ON e.id = a.enrolment_id
       WHERE e.campaign_id = ${campaignId}::uuid AND a.channel = 'email' AND a.status IN ('delivered', 'read')`;
    const emails = Number(delivered!.emails);
    expect(emails).toBeLessThan(Number(totals.delivered));
    expect(totals.openRate).toBeCloseTo(Number(totals.opened) / emails, 12);
    expect(totals.clickRate).toBeCloseTo(Number(totals.clicked) / emails, 12);
  });

  it("is what a full rebuild from the raw tables gives", async () => {
    const path = `/v1/campaigns/${campaignId}/report?by=variant,step,channel,day,dpdBucket,agency&from=2000-01-01&to=2100-12-31`;
    const before = (await api(stack.apiUrl, "GET", path)).body.rows;
    await stack.db.$executeRaw`SELECT mis_rebuild()`;
    expect((await api(stack.apiUrl, "GET", path)).body.rows).toEqual(before);
  });

  it("downloads as CSV with a header row", async () => {
    const json = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/report?by=variant,channel&from=2000-01-01&to=2100-12-31`);
    const response = await fetch(`${stack.apiUrl}/v1/campaigns/${campaignId}/report?by=variant,channel&from=2000-01-01&to=2100-12-31`, {
      headers: { accept: "text/csv", authorization: `Bearer ${stack.adminKey}` },
    });
    expect(response.headers.get("content-type")).toMatch(/^text\/csv/);
    const lines = (await response.text()).trim().split("\n");
    expect(lines[0]!.split(",").slice(0, 4)).toEqual(["variant", "channel", "currency", "enrolled"]);
    expect(lines).toHaveLength(json.body.rows.length + 1);
    const attempted = lines[0]!.split(",").indexOf("attempted");
    expect(lines.slice(1).map((l) => Number(l.split(",")[attempted]))).toEqual(json.body.rows.map((r: { attempted: number }) => r.attempted));

    // Columns in the order asked for, and no column (or JSON key) for a dimension outside the grain.
    const reversed = await fetch(`${stack.apiUrl}/v1/campaigns/${campaignId}/report?by=channel,variant&from=2000-01-01&to=2100-12-31&format=csv`, {
      headers: { authorization: `Bearer ${stack.adminKey}` },
    });
    const header = (await reversed.text()).split("\n")[0]!.split(",");
    expect(header.slice(0, 3)).toEqual(["channel", "variant", "currency"]);
    expect(header).not.toContain("step");
    expect(Object.keys(json.body.rows[0]).filter((k) => ["step", "day", "dpdBucket", "agency"].includes(k))).toEqual([]);
  });

  it("compares the challenger with the champion and both with the holdout", async () => {
    const report = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/report/variants`);
    expect(report.status).toBe(200);
    const enrolments = await stack.db.enrolment.groupBy({ by: ["variant"], where: { campaignId }, _count: true });
    expect(Object.fromEntries(report.body.arms.map((a: { variant: string; enrolled: number }) => [a.variant, a.enrolled]))).toEqual(
      Object.fromEntries(enrolments.map((e) => [e.variant, e._count])),
    );
    expect(report.body.champion).toBe("champion");
    expect(report.body.challengers.map((c: { variant: string }) => c.variant)).toEqual(["challenger"]);
    expect(report.body.incrementality.map((c: { variant: string; against: string }) => `${c.variant} vs ${c.against}`)).toEqual([
      "champion vs holdout",
      "challenger vs holdout",
    ]);
    // Forty accounts: far too few to conclude anything, and the report says so.
    expect(report.body.rows.every((r: { tooSmall: boolean }) => r.tooSmall)).toBe(true);
  });

  it("refuses an unknown dimension, naming the field", async () => {
    const bad = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/report?by=variant,colour`);
    expect(bad.status).toBe(400);
    expect(bad.contentType).toMatch(/problem\+json/);
    expect(bad.body.errors).toEqual([{ field: "query.by", reason: expect.stringContaining("variant, step, channel, day, dpdBucket, agency") }]);
    expect((await api(stack.apiUrl, "GET", `/v1/campaigns/${randomUUID()}/report`)).status).toBe(404);
  });
});

/** A draft champion / challenger campaign over the accounts of `product`, whose journeys end at once. */
async function twoArmCampaign(product: string): Promise<string> {
  const end = { steps: [{ id: "end", kind: "end", outcome: "none" }] };
  const created = await api(stack.apiUrl, "POST", "/v1/campaigns", {
    name: `Two arms ${randomUUID()}`,
    variants: [
      { name: "champion", weight: 1, strategy: end },
      { name: "challenger", weight: 1, strategy: end },
    ],
    segment: { products: [product] },
  });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

/** Launches the campaign; its enrolments once there are `n`. */
async function launched(campaignId: string, n: number) {
  expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/launch`)).status).toBe(202);
  return eventually(async () => {
    const rows = await stack.db.enrolment.findMany({ where: { campaignId } });
    return rows.length === n ? rows : undefined;
  }, "every account enrolled");
}

describe("the variant report", () => {
  it("sends each arm's collected sum and sum of squares as exact decimal strings", async () => {
    const product = `loan-${randomUUID()}`;
    const accounts = Array.from({ length: 6 }, () => accountFixture({ product, balanceMinor: "900000000000000000" }));
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts })).status).toBe(200);
    const campaignId = await twoArmCampaign(product);
    const enrolments = await launched(campaignId, accounts.length);

    // Amounts past 2^53: neither an arm's sum nor its sum of squares survives a JavaScript number.
    const expected: Record<string, { n: number; sum: bigint; sumSquares: bigint }> = {};
    for (const [i, enrolment] of enrolments.entries()) {
      const amount = 100_000_000_000_000_001n + BigInt(2 * i);
      const paid = await api(stack.apiUrl, "POST", `/v1/accounts/${enrolment.accountId}/payments`, {
        reference: `PAY-${enrolment.accountId}`,
        amountMinor: String(amount),
        currency: "IDR",
      });
      expect(paid.status).toBe(200);
      const arm = expected[enrolment.variant] ?? { n: 0, sum: 0n, sumSquares: 0n };
      expected[enrolment.variant] = { n: arm.n + 1, sum: arm.sum + amount, sumSquares: arm.sumSquares + amount * amount };
    }
    const report = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/report/variants`);
    expect(report.status).toBe(200);
    expect(Object.fromEntries(report.body.arms.map((a: { variant: string; paid: unknown }) => [a.variant, a.paid]))).toEqual(
      Object.fromEntries(Object.entries(expected).map(([variant, m]) => [variant, { n: m.n, sum: String(m.sum), sumSquares: String(m.sumSquares) }])),
    );
  });
});

describe("CSV downloads", () => {
  // The header was read off the first row: an empty report had the grain's columns only, or none.
  const paths: Record<string, { rows: string; none: string }> = {};
  beforeAll(async () => {
    const product = `loan-${randomUUID()}`;
    // Enough accounts that both arms have some (each has half a chance to be in either).
    const accounts = Array.from({ length: 20 }, () => accountFixture({ product }));
    const created = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts });
    expect(created.status).toBe(200);
    const campaignId = await twoArmCampaign(product);
    await launched(campaignId, accounts.length);
    const draft = await twoArmCampaign(`none-${randomUUID()}`);
    for (const month of ["1999-11", "1999-12"]) expect((await api(stack.apiUrl, "POST", "/v1/reports/snapshots", { month })).status).toBe(200);
    const agency = await api(stack.apiUrl, "POST", "/v1/agencies", { name: `CSV ${randomUUID()}`, endpoint: "http://127.0.0.1:9/n", commissionBps: 500 });
    await stack.db.placement.create({ data: { agencyId: agency.body.id, accountId: created.body.accounts[0].id, amountMinor: 1000n, currency: "IDR" } });
    const report = `/v1/campaigns/${campaignId}/report?by=variant,day&from=2000-01-01`;
    Object.assign(paths, {
      "campaign report": { rows: `${report}&to=2100-12-31`, none: `${report}&to=2000-01-31` },
      variants: { rows: `/v1/campaigns/${campaignId}/report/variants`, none: `/v1/campaigns/${draft}/report/variants` },
      "roll rates": { rows: "/v1/reports/roll-rates?from=1999-12&to=1999-12", none: "/v1/reports/roll-rates?from=1990-01&to=1990-01" },
      cure: { rows: "/v1/reports/cure?from=1999-12&to=1999-12", none: "/v1/reports/cure?from=1990-01&to=1990-01" },
      agencies: { rows: "/v1/reports/agencies?from=2000-01-01&to=2100-12-31", none: "/v1/reports/agencies?from=1990-01-01&to=1990-01-31" },
    });
  }, 60_000);

  it.each(["campaign report", "variants", "roll rates", "cure", "agencies"])("%s: the header is the report's columns, with rows or without", async (name) => {
    const csv = async (path: string) => {
      const response = await fetch(`${stack.apiUrl}${path}${path.includes("?") ? "&" : "?"}format=csv`, {
        headers: { authorization: `Bearer ${stack.adminKey}` },
      });
      expect(response.status).toBe(200);
      return (await response.text()).trimEnd().split("\n");
    };
    const { rows, none } = paths[name]!;
    const json = await api(stack.apiUrl, "GET", rows);
    expect(json.body.rows.length).toBeGreaterThan(0);
    const columns = Object.keys(json.body.rows[0]);
    const withRows = await csv(rows);
    expect(withRows[0]!.split(",")).toEqual(columns);
    expect(withRows).toHaveLength(json.body.rows.length + 1);
    expect(await csv(none)).toEqual([columns.join(",")]);
  });
});

describe("report periods", () => {
  // Impossible dates reached PostgreSQL (a 500); from after to answered an empty report, which reads as "nothing happened".
  it.each([
    ["/v1/reports/agencies?from=2026-02-31", "query.from"],
    ["/v1/reports/agencies?to=2026-04-31", "query.to"],
    ["/v1/reports/agencies?from=0000-01-01", "query.from"],
    ["/v1/reports/agencies?from=2026-12-10&to=2026-12-01", "query.from"],
    ["/v1/reports/roll-rates?from=2027-01&to=2026-11", "query.from"],
    ["/v1/reports/cure?from=2027-01&to=2026-11", "query.from"],
    ["/v1/reports/cure?from=0000-01", "query.from"],
  ])("answers %s with 400 naming %s", async (path, field) => {
    const response = await api(stack.apiUrl, "GET", path);
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
  });

  it("refuses a campaign report period with an impossible date, naming the parameter", async () => {
    const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: `Periods ${randomUUID()}`,
      strategy: { steps: [{ id: "end", kind: "end", outcome: "none" }] },
      segment: {},
    });
    for (const [query, field] of [
      ["from=2026-02-30", "query.from"],
      ["to=2026-02-31", "query.to"],
    ]) {
      const response = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaign.body.id}/report?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    }
  });

  it("refuses unit costs from a date that does not exist, and a snapshot of a month that has not begun", async () => {
    const costs = await api(stack.apiUrl, "POST", "/v1/reports/unit-costs", { market: "ID", effectiveFrom: "2027-02-30", costs: { sms: 0.01 } });
    expect(costs.status).toBe(400);
    expect(costs.body.errors.map((e: { field: string }) => e.field)).toContain("effectiveFrom");
    const nextYear = `${new Date().getUTCFullYear() + 1}-01`;
    const snapshot = await api(stack.apiUrl, "POST", "/v1/reports/snapshots", { month: nextYear });
    expect(snapshot.status).toBe(400);
    expect(snapshot.body.errors).toEqual([{ field: "month", reason: expect.stringContaining("must not be after") }]);
  });

  // Before, taking an ended month again replaced its month-end snapshot with today's balances,
  // and that month's roll and cure rates with them.
  it("keeps an ended month's month-end snapshot unless asked to replace it", async () => {
    const take = (body: object) => api(stack.apiUrl, "POST", "/v1/reports/snapshots", body);
    expect((await take({ month: "2002-03" })).status).toBe(200);
    const takenAt = async () =>
      (await stack.db.$queryRaw<{ at: Date }[]>`SELECT max(taken_at) AS at FROM account_bucket_snapshots WHERE month = '2002-03-01'`)[0]!.at;
    const first = await takenAt();
    const again = await take({ month: "2002-03" });
    expect(again.status).toBe(409);
    expect(again.body.errors).toEqual([{ field: "replace", reason: "must be true to replace a month-end snapshot with today's balances" }]);
    expect(await takenAt()).toEqual(first);
    expect((await take({ month: "2002-03", replace: true })).status).toBe(200);
    expect((await takenAt()).getTime()).toBeGreaterThan(first.getTime());
  });
});

describe("portfolio reports", () => {
  it("rolls and cures between two monthly bucket snapshots", async () => {
    const product = `loan-${randomUUID()}`;
    const accounts = [5, 5, 5, 45, 45, 95].map((daysPastDue) => accountFixture({ product, daysPastDue }));
    await api(stack.apiUrl, "POST", "/v1/accounts", { accounts });
    expect((await api(stack.apiUrl, "POST", "/v1/reports/snapshots", { month: "2001-01" })).status).toBe(200);
    const rows = await stack.db.account.findMany({ where: { product }, orderBy: { externalId: "asc" } });
    // One 1-30 account rolls to 31-60, one cures; one 31-60 account rolls to 61-90.
    await stack.db.account.update({ where: { id: rows[0]!.id }, data: { daysPastDue: 35 } });
    await stack.db.account.update({ where: { id: rows[1]!.id }, data: { daysPastDue: 0 } });
    await stack.db.account.update({ where: { id: rows[3]!.id }, data: { daysPastDue: 75 } });
    await api(stack.apiUrl, "POST", "/v1/reports/snapshots", { month: "2001-02" });

    const expected = await stack.db.$queryRaw<{ from_bucket: string; n: bigint; rolled: bigint }[]>`
      SELECT prev.dpd_bucket AS from_bucket, count(*) AS n,
             count(*) FILTER (WHERE (prev.dpd_bucket, cur.dpd_bucket) IN (('current', '1-30'), ('1-30', '31-60'), ('31-60', '61-90'), ('61-90', '90+'))) AS rolled
        FROM account_bucket_snapshots prev JOIN account_bucket_snapshots cur ON cur.account_id = prev.account_id AND cur.month = '2001-02-01'
       WHERE prev.month = '2001-01-01' AND prev.dpd_bucket <> '90+' GROUP BY 1`;
    const roll = await api(stack.apiUrl, "GET", "/v1/reports/roll-rates?from=2001-02&to=2001-02");
    expect(roll.status).toBe(200);
    // Rows are per currency (other test files' accounts share the database): add them up per bucket.
    for (const want of expected) {
      const rows = roll.body.rows.filter((r: { fromBucket: string }) => r.fromBucket === want.from_bucket);
      const got = rows.reduce(
        (s: { n: number; rolled: number }, r: { accountsBefore: number; accountsRolled: number }) => ({
          n: s.n + r.accountsBefore,
          rolled: s.rolled + r.accountsRolled,
        }),
        { n: 0, rolled: 0 },
      );
      expect(got).toEqual({ n: Number(want.n), rolled: Number(want.rolled) });
    }
    const cure = await api(stack.apiUrl, "GET", "/v1/reports/cure?from=2001-02&to=2001-02");
    const cured = await stack.db.$queryRaw<{ n: bigint; cured: bigint }[]>`
      SELECT count(*) AS n, count(*) FILTER (WHERE cur.dpd_bucket = 'current') AS cured
        FROM account_bucket_snapshots prev JOIN account_bucket_snapshots cur ON cur.account_id = prev.account_id AND cur.month = '2001-02-01'
       WHERE prev.month = '2001-01-01' AND prev.dpd_bucket <> 'current'`;
    const total = cure.body.rows.reduce(
      (s: { n: number; cured: number }, r: { delinquentAtStart: number; curedAtEnd: number }) => ({
        n: s.n + r.delinquentAtStart,
        cured: s.cured + r.curedAtEnd,
      }),
      { n: 0, cured: 0 },
    );
    expect(total).toEqual({ n: Number(cured[0]!.n), cured: Number(cured[0]!.cured) });
    expect(total.cured).toBeGreaterThanOrEqual(1);
    expect((await api(stack.apiUrl, "GET", "/v1/reports/roll-rates?from=2031-13")).status).toBe(400);
  });

  it("takes the month that ended's snapshot on schedule, once, over a mid-month one", async () => {
    const { timeZone } = (await api(stack.apiUrl, "GET", "/v1/reports/settings")).body as { timeZone: string };
    const ended = lastEndedMonth(new Date(), timeZone);
    // An operator's snapshot of that month taken before it ended does not count as its month-end one.
    expect((await api(stack.apiUrl, "POST", "/v1/reports/snapshots", { month: ended.month, replace: true })).status).toBe(200);
    await stack.db.$executeRaw`UPDATE account_bucket_snapshots SET taken_at = ${new Date(ended.endedAt.getTime() - 86_400_000)}
                                WHERE month = ${`${ended.month}-01`}::date`;
    const schedule = stack.temporal.schedule.getHandle(bucketSnapshotSchedule(stack.config.taskQueue));
    const run = async (): Promise<unknown> => {
      const before = (await schedule.describe()).info.recentActions.length;
      await schedule.trigger();
      const action = await eventually(async () => (await schedule.describe()).info.recentActions[before]?.action, "the triggered run");
      return stack.temporal.workflow.getHandle(action.workflow.workflowId).result();
    };

    const accounts = Number((await stack.db.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM accounts`)[0]!.n);
    expect(await run()).toEqual({ month: ended.month, accounts });
    const taken = await snapshotTakenAt(stack.db, ended.month);
    expect(taken!.getTime()).toBeGreaterThanOrEqual(ended.endedAt.getTime());
    const audit = await api(stack.apiUrl, "GET", "/v1/audit?action=report.snapshot&limit=1");
    expect(audit.body.items[0]).toMatchObject({ actor: "system", target: { type: "bucket-snapshot", id: ended.month }, detail: { accounts, scheduled: true } });

    // The next hourly run finds it taken and leaves it alone.
    expect(await run()).toBeNull();
    expect(await snapshotTakenAt(stack.db, ended.month)).toEqual(taken);
  });
});
