import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Hono, type Context } from "hono";
import { csrf } from "hono/csrf";
import { secureHeaders } from "hono/secure-headers";
import { z } from "zod";
import { ProblemError } from "../api/problem.ts";
import type { ApiDeps } from "../api/types.ts";
import type { CampaignStrategy } from "../domain/strategy.ts";
import { campaignCounts } from "../store/campaign-progress.ts";
import { dashboardPrincipal, forgetKey, rememberKey } from "./auth.ts";
import { loadCampaignPage } from "./data/campaign.ts";
import { loadCampaignsOverview } from "./data/overview.ts";
import { AgenciesPage } from "./pages/agencies.tsx";
import { CampaignPage } from "./pages/campaign.tsx";
import { ErrorPage } from "./pages/error.tsx";
import { LoginPage } from "./pages/login.tsx";
import { OverviewPage } from "./pages/overview.tsx";
import { periodOf } from "./period.ts";
import { agencyPerformance, reportSettings } from "../store/portfolio-reports.ts";

// Chart.js is served from the installed package: browsers on customers' networks may not reach a CDN.
const CHART_JS = join(dirname(createRequire(import.meta.url).resolve("chart.js")), "chart.umd.min.js");
let chartJs: Promise<{ body: Buffer; etag: string }> | undefined;
const loadChartJs = () =>
  (chartJs ??= readFile(CHART_JS).then((body) => ({ body, etag: `"${createHash("sha256").update(body).digest("hex").slice(0, 32)}"` })));

/** Agency performance shows this many calendar days to today unless a period is chosen. */
const AGENCY_LOOKBACK_DAYS = 90;

/** Only paths of the dashboard itself are followed after sign-in (no open redirect). */
const safeNext = (next: unknown): string => (typeof next === "string" && /^\/dashboard(?:[/?]|$)/.test(next) ? next : "/dashboard");

const uuid = z.uuid();

/**
 * The managers' dashboard under `/dashboard`: server-rendered pages with charts drawn by
 * Chart.js, for managers signed in with an API key.
 * @example app.route("/", dashboardRoutes(deps));
 */
export function dashboardRoutes({ db, bulk, settings }: ApiDeps) {
  const app = new Hono();
  // Sign-in and sign-out forms are posted by our own pages only: another site posting them
  // would sign a manager into its key (login CSRF). Behind a proxy the browser's origin is
  // PUBLIC_BASE_URL's, not the one the request reaches us on.
  const publicOrigin = URL.canParse(settings.publicBaseUrl) ? new URL(settings.publicBaseUrl).origin : undefined;
  const sameSite = csrf({ origin: (origin, c) => origin === publicOrigin || origin === new URL(c.req.url).origin });
  app.use("/dashboard/login", sameSite);
  app.use("/dashboard/logout", sameSite);
  // Managers read these pages in a browser: a refused request is a page too, with its status.
  app.onError((error, c) => {
    if (!(error instanceof ProblemError)) throw error;
    const periodRefused = error.errors?.some((e) => e.field === "query.from" || e.field === "query.to");
    const period = periodRefused ? { action: c.req.path, from: c.req.query("from") ?? "", to: c.req.query("to") ?? "" } : undefined;
    return c.html(<ErrorPage title={error.title} detail={error.message} errors={error.errors} period={period} />, error.status);
  });
  // Pages hold portfolio figures and a key cookie: never framed elsewhere, never cached.
  app.use("/dashboard", secureHeaders());
  app.use("/dashboard/*", secureHeaders());

  app.get("/dashboard/assets/chart.js", async (c) => {
    const { body, etag } = await loadChartJs();
    const headers = { ETag: etag, "Cache-Control": "public, max-age=86400" };
    if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
    return c.body(new Uint8Array(body), 200, { ...headers, "Content-Type": "text/javascript; charset=utf-8" });
  });

  app.get("/dashboard/login", (c) => c.html(<LoginPage next={safeNext(c.req.query("next"))} />));
  app.post("/dashboard/login", async (c) => {
    const form = await c.req.parseBody();
    const apiKey = typeof form.apiKey === "string" ? form.apiKey.trim() : "";
    const next = safeNext(form.next);
    if (!apiKey) return c.html(<LoginPage next={next} error="Enter your API key." />, 400);
    // Checked now, so a mistyped key is told at once rather than bounced back here.
    if (!(await dashboardPrincipal(db, c, apiKey))) {
      return c.html(<LoginPage next={next} error="That key is unknown, revoked, or may not read the dashboard." />, 401);
    }
    rememberKey(c, apiKey);
    return c.redirect(next, 303);
  });
  app.post("/dashboard/logout", (c) => {
    forgetKey(c);
    return c.redirect("/dashboard/login", 303);
  });

  // Every other page needs a signed-in manager.
  const signedIn = async (c: Context, next: () => Promise<void>) => {
    if (await dashboardPrincipal(db, c)) {
      await next();
      c.header("Cache-Control", "private, no-store");
      return;
    }
    const url = new URL(c.req.url);
    return c.redirect(`/dashboard/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
  };
  app.use("/dashboard", signedIn);
  app.use("/dashboard/*", signedIn);

  app.get("/dashboard", async (c) => {
    const [{ items, nextCursor }, { timeZone }] = await Promise.all([
      loadCampaignsOverview(db, { limit: 50, cursor: c.req.query("cursor") }),
      reportSettings(db),
    ]);
    return c.html(<OverviewPage campaigns={items} nextCursor={nextCursor} timeZone={timeZone} />);
  });

  app.get("/dashboard/campaigns/:id", async (c) => {
    const id = c.req.param("id");
    if (!uuid.safeParse(id).success) throw new ProblemError(400, "Invalid request", "invalid param.id", [{ field: "param.id", reason: "must be a UUID" }]);
    const campaign = await db.campaign.findUnique({ where: { id } });
    if (!campaign) throw new ProblemError(404, "Not found", `no campaign ${id}`);
    const { timeZone } = await reportSettings(db);
    const period = periodOf(c.req.query(), { since: campaign.launchedAt ?? campaign.createdAt }, new Date(), timeZone);
    const strategy = campaign.strategy as unknown as CampaignStrategy;
    const [data, counts] = await Promise.all([loadCampaignPage({ db, bulk }, { ...campaign, strategy }, period), campaignCounts(db, [id])]);
    return c.html(<CampaignPage data={data} counts={counts.get(id)!} />);
  });

  app.get("/dashboard/agencies", async (c) => {
    const now = new Date();
    const { firstContactSlaDays: slaDays, timeZone } = await reportSettings(db);
    const period = periodOf(c.req.query(), { lastDays: AGENCY_LOOKBACK_DAYS }, now, timeZone);
    // The same figures as GET /v1/reports/agencies for this period.
    const rows = await agencyPerformance(db, { ...period, slaDays, now });
    return c.html(<AgenciesPage rows={rows} period={period} slaDays={slaDays} />);
  });
  // Last: any other path under /dashboard.
  app.get("/dashboard/*", (c) => {
    throw new ProblemError(404, "Not found", `no page ${c.req.path}`);
  });
  return app;
}
