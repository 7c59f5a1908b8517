import { createRoute, z } from "@hono/zod-openapi";
import { timeZoneSchema } from "../../domain/account-input.ts";
import { MIN_ARM_SIZE } from "../../domain/mis/compare.ts";
import { currencyCodeSchema } from "../../domain/money.ts";
import { stringify } from "csv-stringify/sync";
import type { Context } from "hono";
import { attributionOf } from "../../domain/mis/attribution.ts";
import { DEFAULT_UNIT_COSTS } from "../../domain/mis/cost.ts";
import type { CampaignStrategy } from "../../domain/strategy.ts";
import { MEASURE_NAMES } from "../../domain/mis/funnel.ts";
import {
  agencyPerformance,
  cureRates,
  reportSettings,
  rollRates,
  sharedPhones,
  snapshotTakenAt,
  takeBucketSnapshot,
  variantReport,
  type AgencyRow,
  type CureRow,
  type RollRateRow,
} from "../../store/portfolio-reports.ts";
import { campaignReport, REPORT_DIMENSION_NAMES, unitCostVersions, type ReportDimension, type ReportRow } from "../../store/reports.ts";
import { ProblemError } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";
import { recordAudit } from "../../store/audit.ts";
import { principalOf } from "../access.ts";
import { monthEnd, snapshotDue } from "../../domain/mis/snapshots.ts";

// A calendar date that exists: Date.parse rolled 2026-02-30 over to March 2 and took year 0,
// which PostgreSQL refuses (a 500).
const isoDate = z.iso.date({ error: "must be a real date YYYY-MM-DD" }).refine((d) => !d.startsWith("0000-"), "must be a real date YYYY-MM-DD");
/** An empty report for from after to reads as "nothing happened": refused instead. */
function assertOrdered(period: { from: string; to: string }): void {
  if (period.from > period.to) throw new ProblemError(400, "Invalid request", "from is after to", [{ field: "query.from", reason: "must not be after to" }]);
}
const isoMonth = z.string().regex(/^(?!0000)\d{4}-(0[1-9]|1[0-2])$/, "must be a month YYYY-MM");
const format = z.enum(["json", "csv"]).optional().describe("csv: the rows as CSV with a header row (also with Accept: text/csv)");
const reportResponses = (what: string, json: z.ZodType = z.object({}).passthrough()) => ({
  200: {
    description: `${what} (JSON, or CSV with a header row)`,
    content: { "application/json": { schema: json }, "text/csv": { schema: z.string() } },
  },
  400: { description: "Invalid query parameter" },
  404: { description: "No such campaign" },
});

const campaignReportRoute = createRoute({
  method: "get",
  path: "/v1/campaigns/{id}/report",
  tags: ["reports"],
  summary: "A campaign's contact funnel, outcomes, attribution and cost by any of variant, step, channel, day, DPD bucket and agency",
  description:
    "Read from the rollup `campaign_daily_facts`, kept by the database in the same transaction as every attempt, callback, payment, promise and placement. " +
    "`by`: comma-separated subset of " +
    REPORT_DIMENSION_NAMES.join(", ") +
    " (default variant); rows are also split by currency. `from`/`to`: days in the reporting zone, inclusive (default: the campaign's first day to today). " +
    "Attempts count on the day they were made, payments on the day paid, promises on the day made (kept/due on their due date), enrolments on the day enrolled. " +
    "Account-level figures (enrolled, touched, contacted, collected, unattributed, outstanding) have no step or channel.",
  request: {
    params: z.object({ id: z.uuid() }),
    query: z.object({ by: z.string().optional(), from: isoDate.optional(), to: isoDate.optional(), format }),
  },
  responses: reportResponses("The report"),
});

const variantArmSchema = z.object({
  variant: z.string(),
  holdout: z.boolean(),
  currency: z.string(),
  enrolled: z.number(),
  touched: z.number(),
  conversions: z.number(),
  payers: z.number(),
  promisesDue: z.number(),
  promisesKept: z.number(),
  paid: z
    .object({
      n: z.number(),
      sum: z.string().describe("collected since enrolment by the arm's accounts, in minor units, as a decimal string"),
      sumSquares: z.string().describe("the sum of each account's collected amount squared, as a decimal string"),
    })
    .describe("moments of the amount collected per enrolled account (Welch's test)"),
});
const variantsRoute = createRoute({
  method: "get",
  path: "/v1/campaigns/{id}/report/variants",
  tags: ["reports"],
  summary: "Champion vs challenger and incrementality vs the holdout: differences with confidence intervals, tests and sample sizes",
  request: { params: z.object({ id: z.uuid() }), query: z.object({ format }) },
  responses: reportResponses("The comparison", z.object({ champion: z.string(), arms: z.array(variantArmSchema) }).passthrough()),
});

const monthRange = z.object({ from: isoMonth.optional(), to: isoMonth.optional(), format });
const rollRoute = createRoute({
  method: "get",
  path: "/v1/reports/roll-rates",
  tags: ["reports"],
  summary: "Roll (flow) rates between DPD buckets by month, by balance and count, from the monthly bucket snapshots",
  request: { query: monthRange },
  responses: reportResponses("Roll rates"),
});
const cureRoute = createRoute({
  method: "get",
  path: "/v1/reports/cure",
  tags: ["reports"],
  summary: "Cure rate by month and starting bucket: delinquent at the previous snapshot, current at this one",
  request: { query: monthRange },
  responses: reportResponses("Cure rates"),
});
const agenciesRoute = createRoute({
  method: "get",
  path: "/v1/reports/agencies",
  tags: ["reports"],
  summary: "Agency performance: liquidation rate, placement success, recovery per placed account, first-contact SLA adherence",
  request: {
    query: z.object({
      from: isoDate.optional(),
      to: isoDate.optional(),
      slaDays: z.coerce.number().int().min(0).max(365).optional().describe("first-contact SLA in days (default: the report settings')"),
      format,
    }),
  },
  responses: reportResponses("Agency performance"),
});
const sharedPhonesRoute = createRoute({
  method: "get",
  path: "/v1/reports/shared-phones",
  tags: ["reports"],
  summary:
    "Phone numbers on several accounts, most shared first: the gate treats their accounts as one debtor, so a placeholder or switchboard number makes them share one debtor's contacts",
  request: {
    query: z.object({
      minAccounts: z.coerce.number().int().min(2).max(1_000_000).default(2).describe("list numbers on at least this many accounts (default 2)"),
      limit: z.coerce.number().int().min(1).max(1_000).default(100).describe("how many numbers to list (1–1,000, default 100); `numbers` counts them all"),
      format,
    }),
  },
  responses: reportResponses("Shared phone numbers"),
});
const snapshotRoute = createRoute({
  method: "post",
  path: "/v1/reports/snapshots",
  tags: ["reports"],
  summary: "Take the month's DPD bucket snapshot of every account (a repeat within the month replaces it)",
  request: {
    body: {
      required: false,
      content: {
        "application/json": {
          schema: z
            .object({
              month: isoMonth.optional(),
              replace: z.boolean().optional().describe("true to replace an ended month's month-end snapshot with today's balances"),
            })
            .strict(),
        },
      },
    },
  },
  responses: {
    200: { description: "Taken", content: { "application/json": { schema: z.object({ month: z.string(), accounts: z.number() }) } } },
    400: { description: "Invalid month" },
    409: { description: "The month has ended and its month-end snapshot exists: send replace: true to replace it" },
  },
});

const settingsSchema = z.object({
  timeZone: z.string().describe("an IANA time zone"),
  firstContactSlaDays: z.number().int().min(0).max(365),
});
const readSettingsRoute = createRoute({
  method: "get",
  path: "/v1/reports/settings",
  tags: ["reports"],
  summary: "Report settings: the reporting time zone and the agencies' first-contact SLA",
  responses: { 200: { description: "The settings", content: { "application/json": { schema: settingsSchema } } } },
});
const writeSettingsRoute = createRoute({
  method: "put",
  path: "/v1/reports/settings",
  tags: ["reports"],
  summary: "Change the report settings; a new time zone recounts every day of the rollup (one transaction)",
  request: {
    body: {
      required: true,
      content: {
        // The zone is stored as the zone database spells it ("asia/singapore" → "Asia/Singapore"), as accounts' zones are.
        "application/json": { schema: settingsSchema.extend({ timeZone: timeZoneSchema }).partial().strict() },
      },
    },
  },
  responses: { 200: { description: "The settings", content: { "application/json": { schema: settingsSchema } } }, 400: { description: "Invalid fields" } },
});

const unitCostsSchema = z
  .object({
    currency: currencyCodeSchema,
    smsPerSegment: z.number().min(0),
    voicePerMinute: z.number().min(0),
    emailPerMessage: z.number().min(0),
    whatsapp: z.object({ utility: z.number().min(0), marketing: z.number().min(0) }).strict(),
    whatsappCategory: z.enum(["utility", "marketing"]),
    fxToCostCurrency: z.record(z.string().regex(/^[A-Z]{3}$/), z.number().positive()),
  })
  .strict();
const listUnitCostsRoute = createRoute({
  method: "get",
  path: "/v1/reports/unit-costs",
  tags: ["reports"],
  summary: "Unit costs per market: the defaults and every configured version",
  responses: { 200: { description: "Unit costs", content: { "application/json": { schema: z.object({}).passthrough() } } } },
});
const addUnitCostsRoute = createRoute({
  method: "post",
  path: "/v1/reports/unit-costs",
  tags: ["reports"],
  summary: "Add a version of a market's unit costs, in force from a day (replaces a version from the same day)",
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({ market: z.string().regex(/^[A-Z]{2}$/, "must be a jurisdiction code"), effectiveFrom: isoDate, costs: unitCostsSchema }).strict(),
        },
      },
    },
  },
  responses: {
    201: { description: "Stored", content: { "application/json": { schema: z.object({}).passthrough() } } },
    400: { description: "Invalid fields" },
  },
});

export function reportRoutes({ db, bulk }: ApiDeps) {
  const app = router();

  const settings = () => reportSettings(db);
  const today = (timeZone: string) => new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  const campaign = async (id: string) => {
    const found = await db.campaign.findUnique({ where: { id } });
    if (!found) throw new ProblemError(404, "Not found", `no campaign ${id}`);
    return found;
  };

  app.openapi(campaignReportRoute, async (c) => {
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    const by = parseGrain(query.by);
    const [found, { timeZone }] = await Promise.all([campaign(id), settings()]);
    const period = {
      from: query.from ?? new Intl.DateTimeFormat("en-CA", { timeZone }).format(found.createdAt),
      to: query.to ?? today(timeZone),
    };
    assertOrdered(period);
    const report = await campaignReport({ db, bulk }, { campaignId: id, by, ...period });
    const body = {
      campaignId: id,
      grain: [...by, "currency"],
      period: { ...period, timeZone, days: "reporting-zone calendar days, inclusive" },
      attribution: attributionOf(found.attribution),
      generatedAt: new Date().toISOString(),
      rows: report.rows,
      totals: report.totals,
    };
    // The grain's columns in the order asked for; those outside it are undefined, absent from JSON.
    return send(c, body, report.rows, query.format, [...by, ...CAMPAIGN_FIGURES]);
  });

  app.openapi(variantsRoute, async (c) => {
    const { id } = c.req.valid("param");
    const found = await campaign(id);
    const report = await variantReport(db, id, found.strategy as unknown as CampaignStrategy);
    const flat = [
      ...report.challengers.map((r) => ({ comparison: "challenger", ...r })),
      ...report.incrementality.map((r) => ({ comparison: "incrementality", ...r })),
    ].flatMap((r) =>
      (["conversion", "payerRate", "keptRate", "collectedPerAccount"] as const).map((metric) => {
        const m = r[metric];
        return {
          comparison: r.comparison,
          variant: r.variant,
          against: r.against,
          currency: r.currency,
          metric,
          nAgainst: m.a.n,
          nVariant: m.b.n,
          valueAgainst: "rate" in m.a ? m.a.rate : m.a.mean,
          valueVariant: "rate" in m.b ? m.b.rate : m.b.mean,
          difference: m.difference,
          low: m.interval?.low ?? null,
          high: m.interval?.high ?? null,
          pValue: m.pValue,
          tooSmall: m.tooSmall,
        };
      }),
    );
    const body = {
      campaignId: id,
      grain: ["variant", "currency"],
      period: { from: null, to: null, note: "every enrolment of the campaign, payments since enrolment" },
      attribution: attributionOf(found.attribution),
      generatedAt: new Date().toISOString(),
      confidence: 0.95,
      tooSmallBelow: `${MIN_ARM_SIZE.toLocaleString("en")} accounts in the smaller arm`,
      ...report,
      arms: report.arms.map((a) => ({ ...a, paid: strings(a.paid) })),
      rows: flat,
    };
    const columns = columnsOf<(typeof flat)[number]>()([
      "comparison",
      "variant",
      "against",
      "currency",
      "metric",
      "nAgainst",
      "nVariant",
      "valueAgainst",
      "valueVariant",
      "difference",
      "low",
      "high",
      "pValue",
      "tooSmall",
    ]);
    return send(c, body, flat, c.req.valid("query").format, columns);
  });

  const months = async (query: { from?: string; to?: string }) => {
    const { timeZone } = await settings();
    const thisMonth = today(timeZone).slice(0, 7);
    const range = { from: `${query.from ?? thisMonth}-01`, to: `${query.to ?? thisMonth}-01`, timeZone };
    assertOrdered(range);
    return range;
  };
  app.openapi(rollRoute, async (c) => {
    const query = c.req.valid("query");
    const range = await months(query);
    const rows = (await rollRates(db, range)).map(strings);
    return send(
      c,
      { grain: ["month", "currency", "fromBucket"], period: range, generatedAt: new Date().toISOString(), rows },
      rows,
      query.format,
      ROLL_RATE_COLUMNS,
    );
  });
  app.openapi(cureRoute, async (c) => {
    const query = c.req.valid("query");
    const range = await months(query);
    const rows = (await cureRates(db, range)).map(strings);
    return send(c, { grain: ["month", "currency", "bucket"], period: range, generatedAt: new Date().toISOString(), rows }, rows, query.format, CURE_COLUMNS);
  });
  app.openapi(agenciesRoute, async (c) => {
    const query = c.req.valid("query");
    const current = await settings();
    const period = { from: query.from ?? "1970-01-01", to: query.to ?? today(current.timeZone), timeZone: current.timeZone };
    assertOrdered(period);
    const slaDays = query.slaDays ?? current.firstContactSlaDays;
    const rows = (await agencyPerformance(db, { ...period, slaDays, now: new Date() })).map(strings);
    return send(c, { grain: ["agency", "currency"], period, slaDays, generatedAt: new Date().toISOString(), rows }, rows, query.format, AGENCY_COLUMNS);
  });
  app.openapi(sharedPhonesRoute, async (c) => {
    const { minAccounts, limit, format } = c.req.valid("query");
    const shared = await sharedPhones(db, { minAccounts, limit, sample: SHARED_PHONE_SAMPLE });
    const body = { minAccounts, numbers: shared.numbers, accounts: shared.accounts, generatedAt: new Date().toISOString(), rows: shared.rows };
    const csvRows = shared.rows.map((r) => ({ ...r, externalIds: r.externalIds.join(" ") }));
    return send(c, body, csvRows, format, ["phone", "accounts", "externalIds"]);
  });
  app.openapi(snapshotRoute, async (c) => {
    const body = (c.req.header("content-type")?.includes("json") ? c.req.valid("json") : undefined) ?? {};
    const { timeZone } = await settings();
    const thisMonth = today(timeZone).slice(0, 7);
    const month = body.month ?? thisMonth;
    // A snapshot is of balances as they stand: a later month's would be taken before it began.
    if (month > thisMonth)
      throw new ProblemError(400, "Invalid request", `${month} has not begun`, [{ field: "month", reason: `must not be after ${thisMonth}` }]);
    // An ended month's month-end snapshot would be replaced with today's balances: only on purpose.
    if (month < thisMonth && body.replace !== true) {
      const takenAt = await snapshotTakenAt(db, month);
      if (takenAt && !snapshotDue({ endedAt: monthEnd(month, timeZone) }, takenAt))
        throw new ProblemError(
          409,
          "Snapshot kept",
          `${month}'s month-end snapshot, taken ${takenAt.toISOString()}, holds its month-end balances; one taken now would hold today's`,
          [{ field: "replace", reason: "must be true to replace a month-end snapshot with today's balances" }],
        );
    }
    const accounts = await takeBucketSnapshot(db, month, { actor: principalOf(c).keyId });
    return c.json({ month, accounts }, 200);
  });
  app.openapi(readSettingsRoute, async (c) => c.json(await settings(), 200));
  app.openapi(writeSettingsRoute, async (c) => {
    const change = c.req.valid("json");
    await db.$transaction(
      async (tx) => {
        const before = await tx.reportSettings.findUnique({ where: { id: 1 } });
        await tx.reportSettings.upsert({ where: { id: 1 }, create: { id: 1, ...change }, update: change });
        if (change.timeZone && change.timeZone !== before?.timeZone) await tx.$executeRaw`SELECT mis_rebuild()`;
        await recordAudit(tx, { actor: principalOf(c).keyId, action: "report.settings", target: { type: "report-settings" }, detail: change });
      },
      { timeout: 30 * 60_000 },
    );
    return c.json(await settings(), 200);
  });
  app.openapi(listUnitCostsRoute, async (c) => c.json({ defaults: DEFAULT_UNIT_COSTS, versions: await unitCostVersions(db) }, 200));
  app.openapi(addUnitCostsRoute, async (c) => {
    const { market, effectiveFrom, costs } = c.req.valid("json");
    const day = new Date(`${effectiveFrom}T00:00:00Z`);
    await db.$transaction(async (tx) => {
      await tx.unitCostVersion.upsert({
        where: { market_effectiveFrom: { market, effectiveFrom: day } },
        create: { market, effectiveFrom: day, costs },
        update: { costs },
      });
      await recordAudit(tx, {
        actor: principalOf(c).keyId,
        action: "report.unit-costs",
        target: { type: "unit-costs", id: market },
        detail: { effectiveFrom, costs },
      });
    });
    return c.json({ market, effectiveFrom, costs }, 201);
  });
  return app;
}

function parseGrain(by: string | undefined): ReportDimension[] {
  const names = (by ?? "variant")
    .split(",")
    .map((d) => d.trim())
    .filter(Boolean);
  const unknown = names.filter((d) => !REPORT_DIMENSION_NAMES.includes(d as ReportDimension));
  if (unknown.length > 0) {
    throw new ProblemError(400, "Invalid request", `unknown report dimension ${unknown.join(", ")}`, [
      { field: "query.by", reason: `must be a comma-separated subset of ${REPORT_DIMENSION_NAMES.join(", ")}` },
    ]);
  }
  return [...new Set(names)] as ReportDimension[];
}

/** Bigints as strings (JSON has no exact big integers). */
function strings<T extends object>(row: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]));
}

/**
 * A report's CSV columns: every key of its row type, in the order given. tsc refuses a list
 * missing one, so the columns can be fixed by the report rather than read off its first row
 * (an empty report had no header, or only the grain's).
 * @example columnsOf<{ month: string; rate: number }>()(["month", "rate"])
 */
function columnsOf<Row>() {
  return <const K extends readonly (keyof Row & string)[]>(
    keys: K & ([Exclude<keyof Row, K[number]>] extends [never] ? unknown : { missing: Exclude<keyof Row, K[number]> }),
  ): readonly string[] => keys;
}

/** A campaign report's columns after the grain's, in the order of a row's keys. */
const CAMPAIGN_FIGURES = columnsOf<Omit<ReportRow, ReportDimension>>()([
  "currency",
  ...MEASURE_NAMES,
  "callsPlaced",
  "deliveryRate",
  "openRate",
  "clickRate",
  "replyRate",
  "optOutRate",
  "connectRate",
  "rpcRate",
  "contactRate",
  "ptpRate",
  "keptRate",
  "conversionRate",
  "recoveryRate",
  "costSms",
  "costVoice",
  "costEmail",
  "costWhatsapp",
  "costTotal",
  "costCurrency",
  "unpricedMarkets",
  "costToCollect",
]);
const ROLL_RATE_COLUMNS = columnsOf<RollRateRow>()([
  "month",
  "currency",
  "fromBucket",
  "toBucket",
  "accountsBefore",
  "balanceBeforeMinor",
  "accountsRolled",
  "balanceRolledMinor",
  "countRate",
  "balanceRate",
]);
const CURE_COLUMNS = columnsOf<CureRow>()(["month", "currency", "bucket", "delinquentAtStart", "curedAtEnd", "cureRate"]);
const AGENCY_COLUMNS = columnsOf<AgencyRow>()([
  "agency",
  "currency",
  "placements",
  "placedMinor",
  "collectedMinor",
  "accountsPaying",
  "liquidationRate",
  "placementSuccess",
  "recoveryPerPlacedMinor",
  "firstContactsDue",
  "firstContactsInSla",
  "slaAdherence",
]);

/** How many of the accounts on a shared phone its row names. */
const SHARED_PHONE_SAMPLE = 5;

/** JSON, or CSV (a header row of `columns`, one line per row) when asked by `format=csv` or `Accept: text/csv`. */
function send(c: Context, body: object, rows: object[], format: "json" | "csv" | undefined, columns: readonly string[]) {
  const csv = format === "csv" || (format === undefined && (c.req.header("accept") ?? "").includes("text/csv"));
  if (!csv) return c.json(body, 200);
  return c.body(stringify(rows, { header: true, columns: [...columns], cast: { boolean: (v) => String(v) } }), 200, {
    "Content-Type": "text/csv; charset=utf-8",
  });
}
