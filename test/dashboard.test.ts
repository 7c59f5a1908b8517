import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { randomUUID } from "node:crypto";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cost, money, percent } from "../dashboard/format.ts";
import { freePort } from "./ports.ts";
import { accountFixture, api, eventually, startTestStack } from "./stack.ts";

// Debian's Chromium, installed by `node scripts/setup.mjs --test`.
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = "test-artifacts/dashboard";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;
let agencyServer: Server | undefined;
let managerKey: string;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startTestStack({
    TAGIH_SANDBOX_OUTCOMES: JSON.stringify({ sms: { delivered: 7, undelivered: 2, failed: 1 }, email: { delivered: 9, bounce: 1, open: 0.6, click: 0.3 } }),
  });
  browser = await chromium.launch({ executablePath: CHROMIUM });
  managerKey = (await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "dashboard manager", role: "manager" })).body.key;
});
afterAll(async () => {
  // The reporting zone is the whole database's: the next test files count in UTC.
  await api(stack.apiUrl, "PUT", "/v1/reports/settings", { timeZone: "UTC" });
  await browser?.close();
  if (agencyServer) await new Promise((r) => agencyServer!.close(r));
  await stack?.stop();
});

/** A page that records console errors and failed requests, signed in to the dashboard. */
async function signedInPage() {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(`${stack.apiUrl}/dashboard`);
  expect(new URL(page.url()).pathname).toBe("/dashboard/login");
  await page.screenshot({ path: `${ARTIFACTS}/login.png`, fullPage: true });
  await page.fill("#apiKey", managerKey);
  await Promise.all([page.waitForURL(`${stack.apiUrl}/dashboard`), page.click("button[type=submit]")]);
  return { page, problems };
}

/** A table's header cells, and each body row as its row header then its cells: a cell's `data-value` or, without one, its text. */
async function grid(page: Page, id: string): Promise<{ headers: string[]; rows: string[][] }> {
  const headers = await page.$$eval(`#${id} thead th`, (ths) => ths.map((th) => th.textContent!.trim()));
  const rows = await page.$$eval(`#${id} tbody tr`, (trs) =>
    trs.map((row) => [
      row.querySelector("th")?.textContent?.trim() ?? "",
      ...[...row.querySelectorAll("td")].map((td) => td.dataset.value ?? td.textContent!.trim().replace(/\u00a0/g, " ")),
    ]),
  );
  return { headers, rows };
}

/** A table's body rows as { row header: cells }. */
async function table(page: Page, id: string): Promise<Record<string, string[]>> {
  return Object.fromEntries((await grid(page, id)).rows.map(([header, ...cells]) => [header, cells]));
}

/** The report API's field behind each column or row the campaign page names. */
const REPORT_FIELDS: Record<string, string> = {
  Day: "day",
  Channel: "channel",
  Variant: "variant",
  Currency: "currency",
  Enrolled: "enrolled",
  Worked: "touched",
  Contacted: "contacted",
  Attempted: "attempted",
  Delivered: "delivered",
  "Opened / read": "opened",
  Clicked: "clicked",
  Replied: "replied",
  Promises: "promises",
  Conversions: "conversions",
  Collected: "collectedMinor",
  Cost: "costTotal",
  "Cost to collect": "costToCollect",
  "Delivery rate": "deliveryRate",
  "Open / read rate": "openRate",
  "Click rate": "clickRate",
  "Reply rate": "replyRate",
  "Opt-out rate": "optOutRate",
  "Connect rate": "connectRate",
  "RPC rate": "rpcRate",
  "Contact rate": "contactRate",
  "PTP rate": "ptpRate",
  "Kept rate": "keptRate",
  "Conversion rate": "conversionRate",
  "Recovery rate": "recoveryRate",
};

type ReportJson = Record<string, string | number | null>;

/** A report field as the page shows it: rates as percentages (cost to collect with two decimals), counts, minor units and costs as they are. */
function shown(row: ReportJson, label: string): string {
  const field = REPORT_FIELDS[label];
  if (!field) throw new Error(`the page shows "${label}", which is no field of the report`);
  const value = row[field]!;
  const ratio = value === null ? null : Number(value);
  return field.endsWith("Rate") ? percent(ratio) : field === "costToCollect" ? percent(ratio, 2) : String(value);
}

/**
 * Checks a table of report rows (one per dimension value and currency) cell by cell against
 * the API's rows; `own` names the columns the report does not have (the variant's role).
 */
async function expectRowsOf(page: Page, id: string, rows: ReportJson[], own: string[] = []) {
  const { headers, rows: cells } = await grid(page, id);
  const keyed = (list: string[][]) => Object.fromEntries(list.map((r) => [`${r[0]} ${r[1]}`, r]));
  const columns = headers.map((h, i) => [h, i] as const).filter(([h]) => !own.includes(h));
  expect(cells.length).toBe(rows.length);
  expect(keyed(cells.map((r) => columns.map(([, i]) => r[i]!)))).toEqual(keyed(rows.map((r) => columns.map(([h]) => shown(r, h)))));
}

/** Checks a table of the period's totals (a row per measure, a column per currency) against the API's totals. */
async function expectTotalsOf(page: Page, id: string, totals: ReportJson[]) {
  const { headers, rows } = await grid(page, id);
  expect(headers).toEqual(["Measure", ...totals.map((t) => String(t.currency)), "Definition"]);
  for (const [label, ...cells] of rows) expect([label, ...cells.slice(0, -1)]).toEqual([label, ...totals.map((t) => shown(t, label!))]);
}

/** Charts drawn by Chart.js on the page's canvases. */
const chartsDrawn = (page: Page) =>
  page.$$eval("canvas", (canvases) => canvases.map((c) => Boolean((globalThis as unknown as { Chart: { getChart(c: unknown): unknown } }).Chart.getChart(c))));

/** Accounts of a product of their own, stored through the API. */
async function storeAccounts(n: number, overrides: (i: number) => Record<string, unknown> = () => ({})) {
  const product = `loan-${randomUUID()}`;
  const accounts = Array.from({ length: n }, (_, i) => accountFixture({ product, email: `debtor${i}@example.com`, ...overrides(i) }));
  const stored = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts });
  expect(stored.status, JSON.stringify(stored.body)).toBe(200);
  return { product, accounts };
}

async function pay(externalId: string, amountMinor: number, currency = "IDR") {
  const account = await stack.db.account.findUniqueOrThrow({ where: { externalId } });
  const paid = await api(stack.apiUrl, "POST", `/v1/accounts/${account.id}/payments`, { reference: `PAY-${randomUUID()}`, amountMinor, currency });
  expect(paid.status, JSON.stringify(paid.body)).toBe(200);
}

/** Reports count in days of this zone (UTC+7) rather than UTC. */
const ZONE = "Asia/Jakarta";
const todayIn = (timeZone: string) => new Intl.DateTimeFormat("en-CA", { timeZone }).format(new Date());

describe("managers' dashboard in Chromium", () => {
  it("signs in with an API key and shows campaigns, a campaign and agencies with the API's figures", async () => {
    // Typed in any case, the zone is kept as the zone database spells it (before, as typed: the reports said "asia/jakarta").
    const settings = await api(stack.apiUrl, "PUT", "/v1/reports/settings", { timeZone: ZONE.toLowerCase() });
    expect(settings).toMatchObject({ status: 200, body: { timeZone: ZONE } });
    // A champion (SMS), a challenger (SMS, then email) and a no-contact holdout; one account owes dollars.
    const { product, accounts } = await storeAccounts(12, (i) => (i === 11 ? { currency: "USD", balanceMinor: 50_000 } : {}));
    const sms = { id: "reminder-sms", kind: "contact", channel: "sms", template: "reminder" };
    const email = { id: "reminder-email", kind: "contact", channel: "email", template: "reminder" };
    const created = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: `December reminders ${randomUUID().slice(0, 4)}`,
      variants: [
        { name: "champion", weight: 2, strategy: { steps: [sms] } },
        { name: "sms-then-email", weight: 2, strategy: { steps: [sms, email] } },
        { name: "holdout", weight: 1, holdout: true },
      ],
      segment: { products: [product] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const campaignId = created.body.id as string;
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaignId}/launch`)).status).toBe(202);
    await eventually(async () => {
      const s = (await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/summary`)).body;
      return s.enrolled === 12 && s.finished === 12 ? s : undefined;
    }, "every journey to finish");
    await stack.sandbox!.idle();
    await pay(accounts[0]!.externalId, 25_000_050);
    await pay(accounts[1]!.externalId, 10_000_000);
    await pay(accounts[1]!.externalId, 5_000_000);
    await pay(accounts[11]!.externalId, 1_250, "USD");
    const summary = (await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/summary`)).body;
    const collected = money(40_000_050n, "IDR").replace(/\u00a0/g, " ");
    const collectedUsd = money(1_250n, "USD").replace(/\u00a0/g, " ");

    // An agency with two placed accounts, one of which pays while placed.
    const port = await freePort();
    agencyServer = createServer((req, res) => req.resume().on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}")));
    await new Promise<void>((r) => agencyServer!.listen(port, "127.0.0.1", r));
    const agency = await api(stack.apiUrl, "POST", "/v1/agencies", {
      name: `Agency ${randomUUID().slice(0, 8)}`,
      endpoint: `http://127.0.0.1:${port}/placements`,
      commissionBps: 1500,
    });
    expect(agency.status, JSON.stringify(agency.body)).toBe(201);
    const placed = await storeAccounts(2, (i) => ({ balanceMinor: [100_000_000, 50_000_000][i] }));
    const placing = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "Agency placement",
      strategy: { steps: [{ id: "place", kind: "action", action: "place-with-agency", agency: agency.body.name }] },
      segment: { products: [placed.product] },
    });
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${placing.body.id}/launch`)).status).toBe(202);
    await eventually(async () => ((await stack.db.placement.count({ where: { agencyId: agency.body.id } })) === 2 ? true : undefined), "two placements");
    await pay(placed.accounts[0]!.externalId, 30_000_000);

    const { page, problems } = await signedInPage();

    // Overview: the campaign's progress equals the summary API's, whose attempted and delivered
    // are the report's totals over every day, all currencies together.
    const allTime = (await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/report?by=channel&from=2000-01-01&to=2100-12-31`)).body.totals as ReportJson[];
    const total = (field: string) => String(allTime.reduce((sum, t) => sum + Number(t[field]), 0));
    expect([summary.attempted, summary.delivered, summary.failed].map(String)).toEqual([total("attempted"), total("delivered"), total("undelivered")]);
    const overview = await table(page, "campaigns");
    expect(overview[created.body.name]).toEqual([
      summary.status,
      // Launched just now: today in the reporting zone.
      todayIn(ZONE),
      String(summary.enrolled),
      String(summary.running),
      String(summary.finished),
      String(summary.attempted),
      String(summary.delivered),
      `${collected} · ${collectedUsd}`,
    ]);
    expect(overview[created.body.name]!.slice(5, 7)).toEqual([total("attempted"), total("delivered")]);
    expect(await chartsDrawn(page)).toEqual([true]);
    await page.screenshot({ path: `${ARTIFACTS}/overview.png`, fullPage: true });

    // Campaign page, reached through its link: progress from the summary API, the rest from the report API.
    const today = todayIn(ZONE);
    await Promise.all([page.waitForURL(`**/dashboard/campaigns/${campaignId}`), page.click(`a[href="/dashboard/campaigns/${campaignId}"]`)]);
    expect(Object.values(await table(page, "progress"))[0]).toEqual([summary.enrolled, summary.running, summary.finished].map(String));
    const period = { from: await page.inputValue("input[name=from]"), to: await page.inputValue("input[name=to]") };
    expect([today, todayIn(ZONE)]).toContain(period.to);
    expect(await page.textContent("#period")).toContain(`from ${period.from} to ${period.to}, days in ${ZONE} (the reporting time zone)`);
    const report = async (by: string, days = period) =>
      (await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/report?by=${by}&from=${days.from}&to=${days.to}`, undefined, { key: managerKey })).body as {
        rows: ReportJson[];
        totals: ReportJson[];
      };
    const [byDay, byChannel, byVariant] = await Promise.all([report("day"), report("channel"), report("variant")]);

    // The funnel and the rates are the report's totals, cell by cell.
    await expectTotalsOf(page, "funnel", byDay.totals);
    await expectTotalsOf(page, "rates", byDay.totals);
    // A column per currency: money is never summed across currencies.
    expect(byDay.totals.map((t) => t.currency)).toEqual(["IDR", "USD"]);
    // The funnel table spans the section like the rates table below it, so more currencies
    // widen it there rather than clip it beside the chart.
    const [funnelBox, ratesBox, funnelWidth] = await page.$eval("#funnel", (t) => [
      t.parentElement!.clientWidth,
      t.ownerDocument.querySelector("#rates")!.parentElement!.clientWidth,
      t.scrollWidth,
    ]);
    expect(funnelBox).toBe(ratesBox);
    expect(funnelWidth).toBeLessThanOrEqual(funnelBox!);
    const funnel = await table(page, "funnel");
    expect(funnel["Enrolled"]!.slice(0, 2)).toEqual(["11", "1"]);
    expect(funnel["Collected"]!.slice(0, 2)).toEqual(["40000050", "1250"]);
    expect(
      await page.$$eval('#funnel tr:has(th:text-is("Collected")) td', (tds) => tds.slice(0, 2).map((td) => td.textContent!.replace(/\u00a0/g, " "))),
    ).toEqual([collected, collectedUsd]);
    expect(Number(funnel["Attempted"]![0])).toBeGreaterThan(0);
    // Cost in the unit costs' currency (the accounts are in India: USD by default), to collect as a share of what was collected.
    expect(byDay.totals[0]).toMatchObject({ currency: "IDR", costCurrency: "USD" });
    expect(Number(byDay.totals[0]!.costTotal)).toBeGreaterThan(0);
    expect(await page.$$eval('#funnel tr:has(th:text-is("Cost")) td', (tds) => tds.slice(0, 2).map((td) => td.textContent!.replace(/\u00a0/g, " ")))).toEqual(
      byDay.totals.map((t) => cost(Number(t.costTotal), t.costCurrency as string | null).replace(/\u00a0/g, " ")),
    );
    // The rates table compares it cell by cell; something was collected in each currency, so it is a figure.
    expect(byDay.totals.every((t) => t.costToCollect !== null)).toBe(true);

    // Day, channel and variant tables: the report by the same dimension, row by row.
    await expectRowsOf(page, "daily", byDay.rows);
    // Account-level figures have no channel; the page leaves that row to the funnel.
    await expectRowsOf(
      page,
      "channels",
      byChannel.rows.filter((r) => r.channel !== null),
    );
    expect(Object.keys(await table(page, "channels")).sort()).toEqual(["email", "sms"]);
    const channelCost = await page.$$eval("#channels tbody tr", (rows) =>
      rows.map((r) => [
        r.querySelector("th")!.textContent!,
        r.querySelector("td")!.textContent!,
        r.querySelector("td:last-child")!.textContent!.replace(/\u00a0/g, " "),
      ]),
    );
    expect(channelCost.sort()).toEqual(
      byChannel.rows
        .filter((r) => r.channel !== null)
        .map((r) => [r.channel, r.currency, cost(Number(r.costTotal), r.costCurrency as string | null).replace(/\u00a0/g, " ")])
        .sort(),
    );
    expect(byChannel.rows.some((r) => r.channel === "sms" && Number(r.costTotal) > 0)).toBe(true);
    await expectRowsOf(page, "variants", byVariant.rows, ["Role"]);
    // Variants in the strategy's order with their roles; the holdout is never contacted.
    const variants = await grid(page, "variants");
    const column = (name: string) => variants.headers.indexOf(name);
    const roles: Record<string, string> = { champion: "champion", "sms-then-email": "challenger", holdout: "holdout" };
    const enrolled = new Set((await stack.db.enrolment.findMany({ where: { campaignId } })).map((e) => e.variant));
    expect([...new Set(variants.rows.map((r) => r[0]))]).toEqual(Object.keys(roles).filter((name) => enrolled.has(name)));
    expect(variants.rows.map((r) => r[column("Role")])).toEqual(variants.rows.map((r) => roles[r[0]!]));
    for (const r of variants.rows.filter((r) => r[0] === "holdout")) expect(r[column("Attempted")]).toBe("0");

    // The significance table shows the variant report's comparisons, arm sizes as the API counts them.
    const variantReport = (await api(stack.apiUrl, "GET", `/v1/campaigns/${campaignId}/report/variants`)).body;
    const comparisons = [...variantReport.challengers, ...variantReport.incrementality];
    const significance = await page.$$eval("#significance tbody tr", (rows) =>
      rows.map((r) => [r.querySelector("th")!.textContent!, ...[...r.querySelectorAll("td")].slice(0, 4).map((td) => td.textContent!)]),
    );
    expect(significance).toHaveLength(comparisons.length * 3);
    for (const c of comparisons) {
      const row = significance.find((r) => r[0] === `${c.variant} (${c.currency})` && r[1] === c.against && r[2] === "payerRate");
      expect(row?.[3]).toMatch(new RegExp(` of ${c.payerRate.a.n}$`));
    }
    expect(await chartsDrawn(page)).toEqual([true, true, true, true]);
    await page.screenshot({ path: `${ARTIFACTS}/campaign.png`, fullPage: true });

    // A period without activity says so, as the report has nothing for it, and keeps the progress.
    const quiet = { from: "2020-01-01", to: "2020-01-31" };
    await page.goto(`${stack.apiUrl}/dashboard/campaigns/${campaignId}?from=${quiet.from}&to=${quiet.to}`);
    expect((await report("day", quiet)).totals).toEqual([]);
    expect(await page.textContent("#nothing")).toContain("Nothing was recorded in this period.");
    expect(await page.$$("#funnel, #daily tbody tr, #channels tbody tr, #variants tbody tr")).toHaveLength(0);
    expect(Object.values(await table(page, "progress"))[0]![0]).toBe(String(summary.enrolled));

    // Agencies.
    await Promise.all([page.waitForURL("**/dashboard/agencies"), page.click('header a[href="/dashboard/agencies"]')]);
    const agencyCells = (await table(page, "agencies"))[agency.body.name]!;
    expect(agencyCells.slice(0, 6)).toEqual(["2", "150000000", "30000000", "1", "20.0 %", "50.0 %"]);
    // The same row as the agencies report of the API.
    const reported = (await api(stack.apiUrl, "GET", "/v1/reports/agencies?from=2000-01-01&to=2100-12-31")).body.rows.find(
      (r: { agency: string }) => r.agency === agency.body.name,
    );
    expect([String(reported.placements), String(reported.placedMinor), String(reported.collectedMinor), String(reported.accountsPaying)]).toEqual(
      agencyCells.slice(0, 4),
    );
    expect(agencyCells.slice(4)).toEqual(
      [reported.liquidationRate, reported.placementSuccess, reported.slaAdherence].map((x) => percent(x === null ? null : Number(x))),
    );
    const agencyRow = (await page.textContent(`#agencies tbody tr:has(th:text-is("${agency.body.name}"))`))!.replace(/\u00a0/g, " ");
    expect(agencyRow).toContain(`${money(150_000_000n, "IDR")}${money(30_000_000n, "IDR")}`.replace(/\u00a0/g, " "));
    expect(await chartsDrawn(page)).toEqual([true]);
    await page.screenshot({ path: `${ARTIFACTS}/agencies.png`, fullPage: true });

    expect(problems).toEqual([]);

    // Signing out forgets the key.
    await Promise.all([page.waitForURL("**/dashboard/login"), page.click("header button")]);
    await page.goto(`${stack.apiUrl}/dashboard/agencies`);
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe("/dashboard/login?next=%2Fdashboard%2Fagencies");
    await page.close();
  });

  it("serves Chart.js from the installed package with caching headers", async () => {
    const first = await fetch(`${stack.apiUrl}/dashboard/assets/chart.js`);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toContain("text/javascript");
    expect(first.headers.get("cache-control")).toBe("public, max-age=86400");
    expect(await first.text()).toContain("Chart.js v4");
    const again = await fetch(`${stack.apiUrl}/dashboard/assets/chart.js`, { headers: { "if-none-match": first.headers.get("etag")! } });
    expect(again.status).toBe(304);
  });

  it("keeps the key in an HttpOnly SameSite=Strict cookie, refuses an empty key, and answers bad input with an error page", async () => {
    // As a browser posts our form: with the page's origin.
    const origin = { origin: stack.apiUrl };
    const refused = await fetch(`${stack.apiUrl}/dashboard/login`, { method: "POST", headers: origin, body: new URLSearchParams({ apiKey: " " }) });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("Enter your API key.");

    // Before, another site's page could post it and sign the manager into its key.
    for (const headers of [{ origin: "https://evil.example.com" }, {}] as Record<string, string>[]) {
      const forged = await fetch(`${stack.apiUrl}/dashboard/login`, {
        method: "POST",
        headers,
        body: new URLSearchParams({ apiKey: managerKey }),
        redirect: "manual",
      });
      expect(forged.status).toBe(403);
      expect(forged.headers.get("set-cookie")).toBeNull();
    }
    const login = await fetch(`${stack.apiUrl}/dashboard/login`, {
      method: "POST",
      headers: origin,
      body: new URLSearchParams({ apiKey: managerKey, next: "https://evil.example.com/" }),
      redirect: "manual",
    });
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe("/dashboard");
    const cookie = login.headers.get("set-cookie")!;
    expect(cookie.startsWith(`tagih_key=${managerKey};`)).toBe(true);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/dashboard");
    expect(cookie).not.toContain("Secure");

    const signedOut = await fetch(`${stack.apiUrl}/dashboard`, { redirect: "manual" });
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get("location")).toBe("/dashboard/login?next=%2Fdashboard");

    // A key that is unknown, revoked or of a role that may not read every campaign does not sign in.
    const agencyKey = (await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "agency", role: "agency", agencyId: await anyAgencyId() })).body.key;
    for (const apiKey of ["tagih_mgr_unknown", agencyKey]) {
      const refusedKey = await fetch(`${stack.apiUrl}/dashboard/login`, {
        method: "POST",
        headers: origin,
        body: new URLSearchParams({ apiKey }),
        redirect: "manual",
      });
      expect(refusedKey.status).toBe(401);
      expect(refusedKey.headers.get("set-cookie")).toBeNull();
      const withCookie = await fetch(`${stack.apiUrl}/dashboard`, { headers: { cookie: `tagih_key=${apiKey}` }, redirect: "manual" });
      expect(withCookie.status).toBe(303);
    }

    const headers = { cookie: `tagih_key=${managerKey}` };
    const overview = await fetch(`${stack.apiUrl}/dashboard`, { headers });
    expect(overview.status).toBe(200);
    expect(overview.headers.get("cache-control")).toBe("private, no-store");
    expect(overview.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    // Pages, read in a browser: a refused request is an HTML page with the problem's status, kept private.
    const missingId = randomUUID();
    const forgedCursor = Buffer.from('{"k":["yesterday","x"]}').toString("base64url");
    for (const [path, status, problem] of [
      ["/dashboard/agencies?from=2026-13-01&to=2026-01-01", 400, "<li>From: must be a date YYYY-MM-DD</li>"],
      ["/dashboard/campaigns/not-a-uuid", 400, "<li>Campaign: must be a UUID</li>"],
      [`/dashboard/campaigns/${missingId}`, 404, `no campaign ${missingId}`],
      [`/dashboard?cursor=${forgedCursor}`, 400, "<li>Page: not a cursor this listing issued</li>"],
      ["/dashboard/nowhere", 404, "no page /dashboard/nowhere"],
    ] as const) {
      const refused = await fetch(`${stack.apiUrl}${path}`, { headers });
      expect([refused.status, refused.headers.get("content-type"), refused.headers.get("cache-control")], path).toEqual([
        status,
        "text/html; charset=UTF-8",
        "private, no-store",
      ]);
      expect(await refused.text(), path).toContain(problem);
    }
  });

  it("shows a refused period on an error page with the period form to correct it, and no other browser error", async () => {
    const { page, problems } = await signedInPage();
    const draft = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: `Draft ${randomUUID().slice(0, 8)}`,
      strategy: { steps: [{ id: "sms", kind: "contact", channel: "sms", template: "reminder" }] },
    });
    const refused: string[] = [];
    for (const [path, status, shown, period] of [
      [`/dashboard/campaigns/${randomUUID()}`, 404, "no campaign", null],
      // A browser's date field cannot hold an impossible date: it is left empty.
      ["/dashboard/agencies?to=2026-02-30", 400, "To: must be a date YYYY-MM-DD", ["", ""]],
      [`/dashboard/campaigns/${draft.body.id}?from=2024-01-01&to=2026-01-01`, 400, "From: the period is limited to 366 days", ["2024-01-01", "2026-01-01"]],
      ["/dashboard/agencies?from=2026-12-10&to=2026-12-01", 400, "From: must not be after to (today when not given)", ["2026-12-10", "2026-12-01"]],
    ] as const) {
      const url = `${stack.apiUrl}${path}`;
      refused.push(url);
      expect((await page.goto(url))!.status(), path).toBe(status);
      expect(await page.textContent("#problem"), path).toContain(shown);
      const inputs = await page.$$("form.period input");
      expect(await Promise.all(inputs.map((i) => i.inputValue())), path).toEqual(period ?? []);
      expect(await page.isVisible("header a[href='/dashboard/agencies']"), path).toBe(true);
    }
    await page.screenshot({ path: `${ARTIFACTS}/error.png`, fullPage: true });

    // Corrected on the same form, the period is shown.
    await page.fill("input[name=from]", "2026-11-01");
    await Promise.all([page.waitForURL("**/dashboard/agencies?from=2026-11-01&to=2026-12-01"), page.click("form.period button")]);
    expect(await page.inputValue("input[name=from]")).toBe("2026-11-01");

    // Only the refused documents fail: in particular no request for /favicon.ico, a 401 outside the dashboard.
    expect(problems.filter((p) => !refused.some((url) => p.endsWith(`: ${url}`) || p.endsWith(`(${url})`)))).toEqual([]);
    await page.close();
  });

  it("lists campaigns 50 a page, newest first, each once", async () => {
    const batch = randomUUID().slice(0, 8);
    for (let i = 0; i < 51; i += 1) {
      const draft = await api(stack.apiUrl, "POST", "/v1/campaigns", {
        name: `Draft ${batch} ${String(i).padStart(2, "0")}`,
        strategy: { steps: [{ id: "sms", kind: "contact", channel: "sms", template: "reminder" }] },
      });
      expect(draft.status).toBe(201);
    }
    const headers = { cookie: `tagih_key=${managerKey}` };
    const names = (html: string) => [...html.matchAll(new RegExp(`>Draft ${batch} (\\d\\d)<`, "g"))].map((m) => m[1]);
    const first = await (await fetch(`${stack.apiUrl}/dashboard`, { headers })).text();
    const older = /href="(\/dashboard\?cursor=[^"]+)"/.exec(first)![1]!;
    const second = await (await fetch(`${stack.apiUrl}${older.replace(/&amp;/g, "&")}`, { headers })).text();
    expect(names(first)).toEqual(Array.from({ length: 50 }, (_, i) => String(50 - i).padStart(2, "0")));
    expect(names(second)).toEqual(["00"]);
  });
});

async function anyAgencyId(): Promise<string> {
  const created = await api(stack.apiUrl, "POST", "/v1/agencies", {
    name: `Agency ${randomUUID().slice(0, 8)}`,
    endpoint: "https://agency.example.com/tagih",
    commissionBps: 1000,
  });
  return created.body.id;
}
