import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createActivities } from "../activities/index.ts";
import { createLogger } from "../runtime/logger.ts";
import { accountFixture, api, startTestStack } from "./stack.ts";
import { zoneAtLocalHour } from "./zones.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe("POST /v1/compliance/evaluate", () => {
  it.each([
    ["ID", "Asia/Jakarta"],
    ["id", "asia/jakarta"], // any case, as accounts take them
  ])("answers %s / %s in the public contract's shape, with every failing rule and the next lawful instant", async (jurisdiction, timeZone) => {
    // Sunday 6 December 2026, 10:00 in Jakarta: Indonesia never allows Sundays.
    const response = await api(stack.apiUrl, "POST", "/v1/compliance/evaluate", { jurisdiction, timeZone, channel: "sms", at: "2026-12-06T03:00:00Z" });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(["allowed", "nextAllowedAt", "reasons"]);
    expect(response.body).toMatchObject({ allowed: false, nextAllowedAt: "2026-12-07T01:00:00Z" });
    expect(response.body.reasons).toEqual([{ rule: "contact-days", detail: expect.stringContaining("in Asia/Jakarta") }]);
  });

  it.each([
    [
      { jurisdiction: "US", timeZone: "America/New_York", channel: "voice", at: "2026-12-07T12:59:59Z", consent: { autodialedCalls: true } },
      false,
      ["contact-hours"],
      "2026-12-07T13:00:00Z",
    ],
    [
      { jurisdiction: "US", timeZone: "America/New_York", channel: "voice", at: "2026-12-07T13:00:00Z", consent: { autodialedCalls: true } },
      true,
      [],
      "2026-12-07T13:00:00Z",
    ],
    [{ jurisdiction: "US", timeZone: "America/New_York", channel: "voice", at: "2026-12-07T15:00:00Z" }, false, ["consent"], null],
    [{ jurisdiction: "GB", timeZone: "Europe/London", channel: "sms", at: "2026-12-07T12:00:00Z", holds: ["dispute"] }, false, ["hold"], null],
    [{ jurisdiction: "IN", channel: "whatsapp", at: "2026-12-07T06:00:00Z", consent: { whatsapp: true }, optOuts: ["whatsapp"] }, false, ["opt-out"], null],
    [
      {
        jurisdiction: "GB",
        timeZone: "Europe/London",
        channel: "sms",
        at: "2026-12-07T12:00:00Z",
        history: [
          { channel: "sms", at: "2026-12-07T09:00:00Z", kind: "attempt" },
          { channel: "sms", at: "2026-12-07T10:00:00Z", kind: "attempt" },
        ],
      },
      false,
      ["frequency-cap"],
      "2026-12-08T08:00:00Z",
    ],
  ])("%j → allowed %s", async (question, allowed, rules, next) => {
    const response = await api(stack.apiUrl, "POST", "/v1/compliance/evaluate", question);
    expect(response.status).toBe(200);
    expect(response.body.allowed).toBe(allowed);
    expect(response.body.reasons.map((r: { rule: string }) => r.rule).sort()).toEqual(rules);
    expect(response.body.nextAllowedAt).toBe(next);
  });

  // ISO 8601 spells offsets and precision several ways; an allowed answer is `at` itself, to the millisecond.
  it.each([
    ["2026-12-07T18:30:00.750+05:30", "2026-12-07T13:00:00.750Z"],
    ["2026-12-07T18:30+0530", "2026-12-07T13:00:00Z"],
    ["2026-12-07t13:00:00z", "2026-12-07T13:00:00Z"],
  ])("reads at %s as %s", async (at, next) => {
    const response = await api(stack.apiUrl, "POST", "/v1/compliance/evaluate", { jurisdiction: "US", timeZone: "America/New_York", channel: "email", at });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ allowed: true, nextAllowedAt: next });
  });

  it("treats several possible zones as all having to allow", async () => {
    // 08:30 in New York is 05:30 in Los Angeles.
    const response = await api(stack.apiUrl, "POST", "/v1/compliance/evaluate", {
      jurisdiction: "US",
      timeZone: ["America/New_York", "America/Los_Angeles"],
      channel: "email",
      at: "2026-12-07T13:30:00Z",
    });
    expect(response.body).toMatchObject({ allowed: false, nextAllowedAt: "2026-12-07T16:00:00Z" });
  });

  it.each([
    [{ jurisdiction: "XX", channel: "sms", at: "2026-12-07T12:00:00Z" }, "jurisdiction"],
    [{ jurisdiction: "ID", channel: "fax", at: "2026-12-07T12:00:00Z" }, "channel"],
    [{ jurisdiction: "ID", channel: "sms", at: "tomorrow" }, "at"],
    [{ jurisdiction: "ID", channel: "sms", at: "2026-12-07T12:00:00" }, "at"], // no offset: not an instant
    [{ jurisdiction: "ID", channel: "sms", at: "2026-12-07" }, "at"], // a date alone: its -07 is no offset
    [{ jurisdiction: "ID", channel: "sms", at: "2026-12-07T10:00:00+25:00" }, "at"],
    [{ jurisdiction: "US", channel: "voice", at: "2026-12-07T20:00:00Z", history: [{ channel: "voice", at: "2026-12-01", kind: "attempt" }] }, "history.0.at"],
    [{ jurisdiction: "ID", channel: "sms", at: "2026-12-07T12:00:00Z", timeZone: "Jakarta" }, "timeZone"],
    [{ jurisdiction: "ID", channel: "sms", at: "2026-12-07T12:00:00Z", holds: ["vacation"] }, "holds.0"],
    [{ jurisdiction: "ID", channel: "sms", at: "2026-12-07T12:00:00Z", history: [{ channel: "sms", at: "x", kind: "attempt" }] }, "history.0.at"],
  ])("answers %j with 400 naming %s", async (question, field) => {
    const response = await api(stack.apiUrl, "POST", "/v1/compliance/evaluate", question);
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it("says what is wrong with a single time zone, not that it is no list either", async () => {
    const response = await api(stack.apiUrl, "POST", "/v1/compliance/evaluate", {
      jurisdiction: "ID",
      channel: "sms",
      at: "2026-12-07T12:00:00Z",
      timeZone: "Mars/Base",
    });
    expect(response.body.errors).toEqual([{ field: "timeZone", reason: "must be an IANA time zone such as Asia/Jakarta" }]);
  });

  it("is in the OpenAPI document", async () => {
    const doc = await api(stack.apiUrl, "GET", "/openapi.json");
    expect(doc.body.paths["/v1/compliance/evaluate"].post).toBeDefined();
    expect(doc.body.paths["/v1/accounts/{id}/compliance"].get).toBeDefined();
  });
});

describe("GET /v1/compliance/policies/{jurisdiction}", () => {
  it("shows the rules in force with their sources, and how far the holiday calendar reaches", async () => {
    const response = await api(stack.apiUrl, "GET", "/v1/compliance/policies/id");
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      jurisdiction: "ID",
      version: expect.any(String),
      timeZones: ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"],
      windows: { sms: { start: "08:00", end: "20:00", kind: "law" } },
      holidays: { calendar: "ID", coveredUntil: "2027-12-31", years: [2026, 2027] },
    });
    expect(response.body.holidays.dates).toContainEqual(expect.objectContaining({ date: "2026-08-17" }));
    expect(response.body.sources.length).toBeGreaterThan(0);
  });

  it("gives a state's policy with its country's rules, and no calendar where holidays are not checked", async () => {
    const us = await api(stack.apiUrl, "GET", "/v1/compliance/policies/US");
    const ma = await api(stack.apiUrl, "GET", "/v1/compliance/policies/US-MA");
    expect(ma.body.frequencyCaps).toEqual(expect.arrayContaining(us.body.frequencyCaps));
    expect(ma.body.frequencyCaps.length).toBeGreaterThan(us.body.frequencyCaps.length);
    expect(us.body.holidays).toBeNull();
  });

  it("answers an unknown jurisdiction with 400 naming it", async () => {
    const response = await api(stack.apiUrl, "GET", "/v1/compliance/policies/XX");
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: "param.jurisdiction", reason: expect.stringContaining("must be one of") }]);
  });
});

describe("the gate on stored accounts", () => {
  async function storedAccount(overrides: Record<string, unknown> = {}) {
    const fixture = accountFixture({ jurisdiction: "GB", timeZone: zoneAtLocalHour(12), ...overrides });
    const stored = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [fixture] });
    return stored.body.accounts[0].id as string;
  }
  async function enrolIn(accountId: string) {
    const campaign = await stack.db.campaign.create({ data: { name: `race ${randomUUID()}`, strategy: {} } });
    return stack.db.enrolment.create({ data: { campaignId: campaign.id, accountId, workflowId: `race-${randomUUID()}` } });
  }

  it("answers from the account's real history across campaigns, and reflects holds and opt-outs", async () => {
    const accountId = await storedAccount();
    const ask = () => api(stack.apiUrl, "GET", `/v1/accounts/${accountId}/compliance?channel=sms`);
    expect((await ask()).body).toMatchObject({ allowed: true, reasons: [] });

    for (let i = 0; i < 2; i++) {
      const e = await enrolIn(accountId);
      await stack.db.contactAttempt.create({ data: { enrolmentId: e.id, accountId, stepId: "s", channel: "sms", vendor: "twilio", status: "delivered" } });
    }
    const capped = (await ask()).body;
    expect(capped.allowed).toBe(false);
    expect(capped.reasons.map((r: { rule: string }) => r.rule)).toEqual(["frequency-cap"]);

    expect((await api(stack.apiUrl, "POST", `/v1/accounts/${accountId}/holds`, { kind: "cease-communication" })).status).toBe(200);
    expect((await api(stack.apiUrl, "GET", `/v1/accounts/${accountId}/compliance?channel=email`)).body).toMatchObject({ allowed: false, nextAllowedAt: null });
    expect((await api(stack.apiUrl, "DELETE", `/v1/accounts/${accountId}/holds/cease-communication`)).status).toBe(200);
    expect((await api(stack.apiUrl, "GET", `/v1/accounts/${accountId}/compliance?channel=email`)).body.allowed).toBe(true);

    await api(stack.apiUrl, "POST", `/v1/accounts/${accountId}/opt-outs`, { channel: "email" });
    expect((await api(stack.apiUrl, "GET", `/v1/accounts/${accountId}/compliance?channel=email`)).body.reasons).toEqual([
      expect.objectContaining({ rule: "opt-out" }),
    ]);
    expect((await api(stack.apiUrl, "GET", `/v1/accounts/${randomUUID()}/compliance?channel=sms`)).status).toBe(404);
  });

  // Before, the zone on file was trusted whatever the phone said: an Indonesian mobile filed
  // under Europe/London was texted at 01:30 in Jakarta.
  it("respects the hours of the phone's country too when the account's zone disagrees with it", async () => {
    const accountId = await storedAccount({ jurisdiction: "ID", timeZone: "Europe/London", phone: "0812-3456-7899", currency: "IDR" });
    const at = "2026-12-08T18:30:00Z"; // 18:30 in London, 01:30 in Jakarta
    const answer = (await api(stack.apiUrl, "GET", `/v1/accounts/${accountId}/compliance?channel=sms&at=${at}`)).body;
    expect(answer).toMatchObject({ allowed: false, nextAllowedAt: "2026-12-09T08:00:00Z" });
    expect(answer.reasons).toContainEqual({ rule: "contact-hours", detail: expect.stringContaining("01:30 in Asia/Jakarta") });
    // A debtor abroad on a local number keeps their own zone: 18:30 in London is lawful there.
    const abroad = await storedAccount({ jurisdiction: "ID", timeZone: "Europe/London", phone: "+44 7400 123456", currency: "IDR" });
    expect((await api(stack.apiUrl, "GET", `/v1/accounts/${abroad}/compliance?channel=sms&at=${at}`)).body).toMatchObject({ allowed: true });
  });

  it("gives the debtor's last slot to exactly one of many campaigns racing for it", async () => {
    const accountId = await storedAccount();
    const first = await enrolIn(accountId);
    await stack.db.contactAttempt.create({ data: { enrolmentId: first.id, accountId, stepId: "s", channel: "sms", vendor: "twilio", status: "delivered" } });
    // GB allows 2 SMS a local day: one slot is left, and ten campaigns want it at once.
    const racers = await Promise.all(Array.from({ length: 10 }, () => enrolIn(accountId)));
    const activities = gateActivities();
    const answers = await Promise.all(racers.map((e) => activities.reserveContact({ enrolmentId: e.id, stepId: "sms-1", channel: "sms", at: Date.now() })));
    expect(answers.filter((a) => a.allowed)).toHaveLength(1);
    expect(await stack.db.contactAttempt.count({ where: { accountId } })).toBe(2);
    const decisions = await stack.db.complianceDecision.findMany({ where: { accountId } });
    expect(decisions).toHaveLength(10);
    expect(decisions.filter((d) => !d.allowed).every((d) => JSON.stringify(d.reasons).includes("frequency-cap"))).toBe(true);
  });

  // Before, caps were counted per account: one person with a card and a loan on one phone got
  // two texts at the same second from every campaign.
  it("counts the contacts of every account sharing the phone against one debtor's caps, and gives their last slot to one", async () => {
    const card = await storedAccount();
    const { phone } = await stack.db.account.findUniqueOrThrow({ where: { id: card } });
    const loan = await storedAccount({ phone });
    const other = await storedAccount();
    const ask = (id: string) => api(stack.apiUrl, "GET", `/v1/accounts/${id}/compliance?channel=sms`).then((r) => r.body);
    const first = await enrolIn(card);
    await stack.db.contactAttempt.create({
      data: { enrolmentId: first.id, accountId: card, stepId: "s", channel: "sms", vendor: "twilio", status: "delivered" },
    });
    expect(await ask(loan)).toMatchObject({ allowed: true });

    // GB allows 2 SMS a local day: one slot is left for the debtor, and both accounts' campaigns want it at once.
    const racers = await Promise.all(Array.from({ length: 10 }, (_, i) => enrolIn(i % 2 === 0 ? card : loan)));
    const activities = gateActivities();
    const answers = await Promise.all(racers.map((e) => activities.reserveContact({ enrolmentId: e.id, stepId: "sms-1", channel: "sms", at: Date.now() })));
    expect(answers.filter((a) => a.allowed)).toHaveLength(1);
    expect(await stack.db.contactAttempt.count({ where: { accountId: { in: [card, loan] } } })).toBe(2);
    for (const id of [card, loan]) expect((await ask(id)).reasons.map((r: { rule: string }) => r.rule)).toEqual(["frequency-cap"]);
    expect(await ask(other)).toMatchObject({ allowed: true });
  });

  it("lists the phone numbers several accounts share, most shared first, for ops to find placeholders the caps now treat as one debtor", async () => {
    const placeholder = await storedAccount();
    const { phone: junk } = await stack.db.account.findUniqueOrThrow({ where: { id: placeholder } });
    for (let i = 0; i < 3; i++) await storedAccount({ phone: junk });
    const pair = await storedAccount();
    const { phone: shared } = await stack.db.account.findUniqueOrThrow({ where: { id: pair } });
    await storedAccount({ phone: shared });
    const externalIds = async (phone: string | null) =>
      (await stack.db.account.findMany({ where: { phone }, select: { externalId: true }, orderBy: { externalId: "asc" } })).map((a) => a.externalId);

    const report = await api(stack.apiUrl, "GET", "/v1/reports/shared-phones?limit=1000");
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    const { rows } = report.body as { rows: { phone: string; accounts: number; externalIds: string[] }[] };
    expect(rows.find((r) => r.phone === junk)).toEqual({ phone: junk, accounts: 4, externalIds: await externalIds(junk) });
    expect(rows.find((r) => r.phone === shared)).toEqual({ phone: shared, accounts: 2, externalIds: await externalIds(shared) });
    // Most shared first, and the totals count what a direct count over the accounts gives.
    expect(rows.map((r) => r.accounts)).toEqual([...rows.map((r) => r.accounts)].sort((a, b) => b - a));
    const direct = await stack.db.account.groupBy({ by: ["phone"], where: { phone: { not: null } }, _count: true, having: { phone: { _count: { gte: 2 } } } });
    expect(report.body).toMatchObject({ minAccounts: 2, numbers: direct.length, accounts: direct.reduce((n, g) => n + g._count, 0) });

    const fourOrMore = await api(stack.apiUrl, "GET", "/v1/reports/shared-phones?minAccounts=4&format=csv");
    expect(fourOrMore.contentType).toContain("text/csv");
    const lines = (fourOrMore.body as string).trim().split("\n");
    expect(lines[0]).toBe("phone,accounts,externalIds");
    expect(lines).toContain(`${junk},4,${(await externalIds(junk)).join(" ")}`);
    expect(lines.some((l) => l.startsWith(`${shared},`))).toBe(false);
    expect((await api(stack.apiUrl, "GET", "/v1/reports/shared-phones?minAccounts=1")).body.errors).toEqual([
      { field: "query.minAccounts", reason: expect.any(String) },
    ]);
  });

  function gateActivities() {
    return createActivities({
      db: stack.db,
      sql: stack.sql,
      senders: {},
      temporal: stack.temporal,
      logger: createLogger("silent"),
      clock: () => new Date(),
      settings: { publicBaseUrl: "", taskQueue: "", enrolPageSize: 1, privateEndpoints: "refuse" },
    });
  }
});
