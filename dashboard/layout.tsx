import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import { chartPercent } from "./format.ts";
import type { Period } from "./period.ts";

// Draws every chart of the page from the JSON configuration next to its canvas.
const DRAW_CHARTS = `for (const data of document.querySelectorAll('script[type="application/json"][data-chart]')) {
  new Chart(document.getElementById(data.dataset.chart), JSON.parse(data.textContent));
}`;

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2433;background:#f5f6f8}
header{background:#1d2433;color:#fff;padding:.6rem 1.5rem;display:flex;gap:1.5rem;align-items:center}
header a{color:#fff;text-decoration:none}header .brand{font-weight:700;font-size:1.1rem}
header form{margin-left:auto}header button{background:none;border:1px solid #8891a5;color:#fff;border-radius:4px;padding:.2rem .7rem;cursor:pointer}
main{max-width:1240px;margin:0 auto;padding:1rem 1.5rem 3rem}
h1{font-size:1.5rem;margin:.5rem 0}h2{font-size:1.15rem;margin:0 0 .6rem}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:1rem 1.2rem;margin:1rem 0}
figure{margin:0 0 .8rem;position:relative;height:260px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
caption{text-align:left;font-size:.85rem;color:#5b6475;padding-bottom:.3rem}
th,td{padding:.3rem .45rem;border-bottom:1px solid #e6e9ef;text-align:right;white-space:nowrap}
td.means{white-space:normal;text-align:left;min-width:12rem;font-size:.85rem;color:#5b6475}
th:first-child,td:first-child{text-align:left}thead th{font-size:.8rem;color:#5b6475;font-weight:600;white-space:normal;vertical-align:bottom}
.meta{color:#5b6475}.note{color:#5b6475;font-size:.85rem}.warn{color:#9a5b00}
.status{display:inline-block;border-radius:10px;padding:0 .5rem;font-size:.8rem;background:#e6e9ef}
.status-running{background:#dcf3e4}.status-paused{background:#fff1cc}.status-cancelled{background:#f8dcdc}
form.period{display:flex;gap:.6rem;align-items:end;flex-wrap:wrap}form.period label{display:flex;flex-direction:column;font-size:.8rem;color:#5b6475}
input,button{font:inherit}form.period button,.login button{padding:.3rem .9rem;border-radius:4px;border:1px solid #1d2433;background:#1d2433;color:#fff;cursor:pointer}
.login{max-width:360px;margin:4rem auto}.login input{width:100%;padding:.4rem;margin:.3rem 0 .8rem}.error{color:#b3261e}
`;

/**
 * The page around every dashboard view: navigation, styles, Chart.js and the script that
 * draws the page's charts.
 */
export function Layout(props: { title: string; signedIn?: boolean; charts?: boolean; children: Child }) {
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          {/* No icon: spares the browser a request for /favicon.ico. */}
          <link rel="icon" href="data:," />
          <title>{`${props.title} · Tagih`}</title>
          <style>{raw(STYLE)}</style>
        </head>
        <body>
          <header>
            <a class="brand" href="/dashboard">
              Tagih
            </a>
            {props.signedIn !== false && (
              <>
                <a href="/dashboard">Campaigns</a>
                <a href="/dashboard/agencies">Agencies</a>
                <form method="post" action="/dashboard/logout">
                  <button type="submit">Sign out</button>
                </form>
              </>
            )}
          </header>
          <main>{props.children}</main>
          {props.charts && (
            <>
              <script src="/dashboard/assets/chart.js"></script>
              <script>{raw(DRAW_CHARTS)}</script>
            </>
          )}
        </body>
      </html>
    </>
  );
}

/** A Chart.js configuration (data only: no functions) in JSON. */
export interface ChartConfig {
  type: "bar" | "line";
  data: { labels: string[]; datasets: { label: string; data: (number | null)[]; [option: string]: unknown }[] };
  options?: Record<string, unknown>;
}

/**
 * A chart drawn on the client from its configuration, embedded as JSON. The table beside it
 * carries the same figures for screen readers and copying.
 */
export function Chart(props: { id: string; label: string; config: ChartConfig }) {
  const config = { ...props.config, options: { maintainAspectRatio: false, animation: false, ...props.config.options } };
  // "<" escaped so that no value can close the script element.
  const json = JSON.stringify(config).replace(/</g, "\\u003c");
  return (
    <figure>
      <canvas id={props.id} role="img" aria-label={props.label}></canvas>
      <script type="application/json" data-chart={props.id}>
        {raw(json)}
      </script>
    </figure>
  );
}

/**
 * Bars of rates per item, in percent: a series per rate, no bar where a rate is undefined.
 * @example <RateChart id="agencies-chart" label="…" labels={["Acme"]} rates={{ "Liquidation rate": [0.2] }} />
 */
export function RateChart(props: { id: string; label: string; labels: string[]; rates: Record<string, (number | null)[]> }) {
  return (
    <Chart
      id={props.id}
      label={props.label}
      config={{
        type: "bar",
        data: {
          labels: props.labels,
          datasets: Object.entries(props.rates).map(([name, ratios], i) => ({
            label: `${name}, %`,
            data: ratios.map(chartPercent),
            backgroundColor: COLOURS[i % COLOURS.length],
          })),
        },
        options: { scales: { y: { beginAtZero: true } } },
      }}
    />
  );
}

/** The period picker: a plain GET form keeping the page's other parameters. */
export function PeriodForm(props: { action: string; period: Pick<Period, "from" | "to"> }) {
  return (
    <form class="period" method="get" action={props.action}>
      <label>
        From
        <input type="date" name="from" value={props.period.from} />
      </label>
      <label>
        To
        <input type="date" name="to" value={props.period.to} />
      </label>
      <button type="submit">Show</button>
    </form>
  );
}

/** Colours of the charts' series, in order. */
export const COLOURS = ["#2f6fde", "#21a366", "#f0a202", "#c2410c", "#7c3aed", "#0e7490", "#be185d"];
