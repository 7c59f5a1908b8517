import type { Child } from "hono/jsx";
import type { Rates } from "../../domain/mis/funnel.ts";
import type { CampaignCounts } from "../../store/campaign-progress.ts";
import type { ReportDimension, ReportRow } from "../../store/reports.ts";
import type { CampaignPage as Data, VariantRow, VariantSignificance } from "../data/campaign.ts";
import { cost, count, money, percent } from "../format.ts";
import { Chart, COLOURS, Layout, PeriodForm, RateChart, type ChartConfig } from "../layout.tsx";
import { dayIn, daysOf } from "../period.ts";

type Count = "enrolled" | "touched" | "contacted" | "attempted" | "delivered" | "opened" | "clicked" | "replied" | "promises" | "conversions";

/** The campaign report's counts and rates as the page names them, with the report's definitions (README "Reports (MIS)"). */
const COUNTS: Record<Count, { label: string; means: string }> = {
  enrolled: { label: "Enrolled", means: "accounts enrolled (on the day of enrolment)" },
  touched: { label: "Worked", means: "enrolled accounts with at least one attempt handed to a vendor" },
  contacted: { label: "Contacted", means: "worked accounts with a live contact: an RPC, a reply or a click" },
  attempted: { label: "Attempted", means: "attempts that left the compliance gate" },
  delivered: { label: "Delivered", means: "attempts delivered (or read)" },
  opened: { label: "Opened / read", means: "email opens and WhatsApp reads" },
  clicked: { label: "Clicked", means: "attempts whose link was clicked" },
  replied: { label: "Replied", means: "SMS, WhatsApp and email attempts answered" },
  promises: { label: "Promises", means: "promises to pay made" },
  conversions: { label: "Conversions", means: "accounts whose payment was attributed to a touch" },
};
const RATES: Record<keyof Rates, { label: string; means: string }> = {
  deliveryRate: { label: "Delivery rate", means: "delivered ÷ (delivered + undelivered), SMS, WhatsApp and email" },
  openRate: { label: "Open / read rate", means: "emails opened and WhatsApps read ÷ email and WhatsApp delivered" },
  clickRate: { label: "Click rate", means: "emails clicked ÷ email delivered (clicks are tracked in email only)" },
  replyRate: { label: "Reply rate", means: "replied ÷ SMS, WhatsApp and email delivered" },
  optOutRate: { label: "Opt-out rate", means: "opt-outs ÷ SMS, WhatsApp and email delivered" },
  connectRate: { label: "Connect rate", means: "calls answered by a person or a machine ÷ calls placed" },
  rpcRate: { label: "RPC rate", means: "calls with a keypress ÷ calls placed" },
  contactRate: { label: "Contact rate", means: "contacted ÷ worked" },
  ptpRate: { label: "PTP rate", means: "promises ÷ (RPCs + SMS, WhatsApp and email delivered)" },
  keptRate: { label: "Kept rate", means: "promises kept ÷ promises falling due (on their due date)" },
  conversionRate: { label: "Conversion rate", means: "conversions ÷ worked" },
  recoveryRate: { label: "Recovery rate", means: "collected ÷ outstanding at enrolment" },
};
const COLLECTED = { label: "Collected", means: "payments by enrolled accounts since enrolment, on the day paid" };
const UNPRICED = "; * marks a figure leaving out markets without unit costs, named in its tooltip";
const COST = { label: "Cost", means: `billed units (SMS segments, call minutes, messages) × the unit cost of the day, in the unit costs' currency${UNPRICED}` };
const COST_TO_COLLECT = { label: "Cost to collect", means: `(cost + agency commission) ÷ collected, both in the unit costs' currency${UNPRICED}` };
const FUNNEL: Count[] = ["enrolled", "touched", "contacted", "attempted", "delivered", "opened", "clicked", "replied", "promises", "conversions"];
const STAGES: Count[] = ["attempted", "delivered", "opened", "clicked", "replied", "promises", "conversions"];

/** A count cell: the figure formatted, the exact number in `data-value`. */
const N = (props: { n: number }) => <td data-value={props.n}>{count(props.n)}</td>;
/** An amount cell: every minor digit of its currency shown, the minor units in `data-value`. */
const M = (props: { minor: string; currency: string }) => <td data-value={props.minor}>{money(BigInt(props.minor), props.currency)}</td>;
/** A cell of a figure made of the row's channel cost: marked when markets without unit costs are left out, those named in its title. */
const Costed = (props: { row: ReportRow; value?: number; children: string }) => {
  const unpriced = props.row.unpricedMarkets?.split(" ").join(", ");
  return (
    <td data-value={props.value} title={unpriced && `excludes channel cost for ${unpriced} (no unit costs)`}>
      {props.children}
      {unpriced && <sup class="warn">*</sup>}
    </td>
  );
};
/** A cost cell: in the unit costs' currency, the amount as the report API rounds it in `data-value`. */
const C = (props: { row: ReportRow }) => (
  <Costed row={props.row} value={props.row.costTotal}>
    {cost(props.row.costTotal, props.row.costCurrency)}
  </Costed>
);

const currenciesOf = (rows: ReportRow[]) => [...new Set(rows.map((r) => r.currency))];

/**
 * A chart series per count, and per currency when there are several, over the labels of one
 * dimension: a colour per count; a currency after the first dashed and translucent.
 */
function series(rows: ReportRow[], dimension: ReportDimension, labels: string[], counts: Count[]): ChartConfig["data"]["datasets"] {
  const currencies = currenciesOf(rows);
  return counts.flatMap((key, i) =>
    currencies.map((currency, j) => {
      const colour = COLOURS[i % COLOURS.length]!;
      return {
        label: currencies.length > 1 ? `${COUNTS[key].label} (${currency})` : COUNTS[key].label,
        data: labels.map((l) => rows.find((r) => r[dimension] === l && r.currency === currency)?.[key] ?? 0),
        borderColor: colour,
        backgroundColor: j === 0 ? colour : `${colour}80`,
        borderDash: j === 0 ? [] : [6, 4],
      };
    }),
  );
}

/** One campaign: progress, then its report for a period: funnel and rates, a daily trend, channels and variants. */
export function CampaignPage(props: { data: Data; counts: CampaignCounts }) {
  const { campaign, period, totals, days, channels } = props.data;
  const currencies = currenciesOf(totals);
  const dayLabels = daysOf(period);
  const channelLabels = [...new Set(channels.map((c) => c.channel!))];
  return (
    <Layout title={campaign.name} charts>
      <p class="meta">
        <a href="/dashboard">← All campaigns</a>
      </p>
      <h1>{campaign.name}</h1>
      <p class="meta">
        <span class={`status status-${campaign.status}`}>{campaign.status}</span>{" "}
        {campaign.launchedAt ? `launched ${dayIn(campaign.launchedAt, period.timeZone)}` : "not launched"}
      </p>
      <Progress counts={props.counts} />
      <section>
        <PeriodForm action={`/dashboard/campaigns/${campaign.id}`} period={period} />
        <p class="note" id="period">
          Figures below are the campaign report (<code>GET /v1/campaigns/{campaign.id}/report</code>, as its CSV download) from {period.from} to {period.to},
          days in {period.timeZone} (the reporting time zone). Accounts count on the day they were enrolled, attempts and promises on the day made, payments on
          the day paid. Money is per currency, never summed across currencies; a cost is in the unit costs' currency (USD by default) and counts in the column
          or row of its accounts' currency.
        </p>
      </section>
      <section>
        <h2>Contact funnel</h2>
        <Chart
          id="funnel-chart"
          label="Contact funnel"
          config={{
            type: "bar",
            data: {
              labels: STAGES.map((k) => COUNTS[k].label),
              datasets: totals.map((t, i) => ({
                label: t.currency,
                data: STAGES.map((k) => t[k]),
                backgroundColor: COLOURS[i % COLOURS.length],
              })),
            },
            options: { indexAxis: "y", plugins: { legend: { display: currencies.length > 1 } } },
          }}
        />
        {totals.length === 0 ? (
          <p class="note" id="nothing">
            Nothing was recorded in this period.
          </p>
        ) : (
          <MeasureTable id="funnel" caption="Totals of the period, one column per currency." totals={totals}>
            {FUNNEL.map((key) => (
              <tr>
                <th scope="row">{COUNTS[key].label}</th>
                {totals.map((t) => (
                  <N n={t[key]} />
                ))}
                <td class="means">{COUNTS[key].means}</td>
              </tr>
            ))}
            <tr>
              <th scope="row">{COLLECTED.label}</th>
              {totals.map((t) => (
                <M minor={t.collectedMinor} currency={t.currency} />
              ))}
              <td class="means">{COLLECTED.means}</td>
            </tr>
            <tr>
              <th scope="row">{COST.label}</th>
              {totals.map((t) => (
                <C row={t} />
              ))}
              <td class="means">{COST.means}</td>
            </tr>
          </MeasureTable>
        )}
        {totals.length > 0 && (
          <MeasureTable id="rates" caption="Rates of the period; – where there is nothing to divide by." totals={totals}>
            {(Object.keys(RATES) as (keyof Rates)[]).map((key) => (
              <tr>
                <th scope="row">{RATES[key].label}</th>
                {totals.map((t) => (
                  <td>{percent(t[key])}</td>
                ))}
                <td class="means">{RATES[key].means}</td>
              </tr>
            ))}
            <tr>
              <th scope="row">{COST_TO_COLLECT.label}</th>
              {totals.map((t) => (
                <Costed row={t}>{percent(t.costToCollect, 2)}</Costed>
              ))}
              <td class="means">{COST_TO_COLLECT.means}</td>
            </tr>
          </MeasureTable>
        )}
      </section>
      <DimensionSection
        title="Daily trend"
        chart={{ type: "line", label: "Attempts, deliveries, replies, promises and conversions per day", labels: dayLabels }}
        charted={["attempted", "delivered", "replied", "promises", "conversions"]}
        id="daily"
        caption="The report by day: days with anything recorded."
        dimension="day"
        heading="Day"
        rows={days}
        counts={["enrolled", "attempted", "delivered", "replied", "promises", "conversions"]}
        rates={[]}
        collected
        cost={false}
      />
      <DimensionSection
        title="Channels"
        chart={{ type: "bar", label: "Contact funnel per channel", labels: channelLabels }}
        charted={["attempted", "delivered", "opened", "clicked", "replied"]}
        id="channels"
        caption="The report by channel, cost in the unit costs' currency. Account-level figures (enrolled, worked, contacted, collected) have no channel: they are in the funnel above."
        dimension="channel"
        heading="Channel"
        rows={channels}
        counts={["attempted", "delivered", "opened", "clicked", "replied", "promises", "conversions"]}
        rates={["deliveryRate", "replyRate", "connectRate"]}
        collected={false}
        cost
      />
      <Variants variants={props.data.variants} significance={props.data.significance} />
    </Layout>
  );
}

/** A table of the period's totals: a row per measure, a column per currency, then what the measure means. */
function MeasureTable(props: { id: string; caption: string; totals: ReportRow[]; children: Child }) {
  return (
    <div class="scroll">
      <table id={props.id}>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Measure</th>
            {props.totals.map((t) => (
              <th scope="col">{t.currency}</th>
            ))}
            <th scope="col">Definition</th>
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

interface ReportTableProps<R extends ReportRow> {
  id: string;
  caption: string;
  dimension: ReportDimension;
  heading: string;
  rows: R[];
  extra?: { heading: string; value: (row: R) => string };
  counts: Count[];
  rates: (keyof Rates)[];
  /** Whether the rows have collected money: account-level, so never per channel. */
  collected: boolean;
  /** Whether to show each row's channel cost. */
  cost: boolean;
}

/** The report by one dimension: a chart of some of its counts over the dimension's values, and its table. */
function DimensionSection(
  props: ReportTableProps<ReportRow> & { title: string; chart: { type: "line" | "bar"; label: string; labels: string[] }; charted: Count[] },
) {
  const { title, chart, charted, ...table } = props;
  return (
    <section>
      <h2>{title}</h2>
      <Chart
        id={`${props.id}-chart`}
        label={chart.label}
        config={{
          type: chart.type,
          data: { labels: chart.labels, datasets: series(props.rows, props.dimension, chart.labels, charted) },
          options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
        }}
      />
      <ReportTable {...table} />
    </section>
  );
}

/** Report rows of one dimension: its value, the currency, the counts and rates asked for, and what was collected where it applies. */
function ReportTable<R extends ReportRow>(props: ReportTableProps<R>) {
  return (
    <div class="scroll">
      <table id={props.id}>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">{props.heading}</th>
            <th scope="col">Currency</th>
            {props.extra && <th scope="col">{props.extra.heading}</th>}
            {props.counts.map((k) => (
              <th scope="col" title={COUNTS[k].means}>
                {COUNTS[k].label}
              </th>
            ))}
            {props.rates.map((k) => (
              <th scope="col" title={RATES[k].means}>
                {RATES[k].label}
              </th>
            ))}
            {props.collected && (
              <th scope="col" title={COLLECTED.means}>
                {COLLECTED.label}
              </th>
            )}
            {props.cost && (
              <th scope="col" title={COST.means}>
                {COST.label}
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr>
              <th scope="row">{r[props.dimension]}</th>
              <td>{r.currency}</td>
              {props.extra && <td>{props.extra.value(r)}</td>}
              {props.counts.map((k) => (
                <N n={r[k]} />
              ))}
              {props.rates.map((k) => (
                <td>{percent(r[k])}</td>
              ))}
              {props.collected && <M minor={r.collectedMinor} currency={r.currency} />}
              {props.cost && <C row={r} />}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Progress(props: { counts: CampaignCounts }) {
  const c = props.counts;
  const cells: [string, number][] = [
    ["Enrolled", c.enrolled],
    ["Running", c.running],
    ["Finished", c.finished],
  ];
  return (
    <section class="scroll">
      <h2>Progress</h2>
      <table id="progress">
        <caption>The campaign's account journeys since launch, whatever the period.</caption>
        <thead>
          <tr>
            {cells.map(([name]) => (
              <th scope="col">{name}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            {cells.map(([, n]) => (
              <N n={n} />
            ))}
          </tr>
        </tbody>
      </table>
    </section>
  );
}

function Variants(props: { variants: VariantRow[]; significance: VariantSignificance[] }) {
  const several = currenciesOf(props.variants).length > 1;
  const label = (v: VariantRow) => `${v.variant} (${several ? `${v.role}, ${v.currency}` : v.role})`;
  return (
    <section>
      <h2>Variants</h2>
      <RateChart
        id="variants-chart"
        label="Conversion and recovery rates per variant"
        labels={props.variants.map(label)}
        rates={{
          [RATES.conversionRate.label]: props.variants.map((v) => v.conversionRate),
          [RATES.recoveryRate.label]: props.variants.map((v) => v.recoveryRate),
        }}
      />
      <ReportTable
        id="variants"
        caption="The report by variant. The holdout is never contacted: compare it on what its accounts paid."
        heading="Variant"
        rows={props.variants}
        dimension="variant"
        extra={{ heading: "Role", value: (r) => r.role }}
        counts={["enrolled", "touched", "attempted", "promises", "conversions"]}
        rates={["contactRate", "conversionRate", "recoveryRate"]}
        collected
        cost={false}
      />
      <Significance rows={props.significance} />
    </section>
  );
}

/** Each comparison's difference, confidence interval and p-value, with a warning when the arms are too small. */
export function Significance(props: { rows: VariantSignificance[] }) {
  if (props.rows.length === 0) return null;
  const points = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)} pts`;
  return (
    <div class="scroll">
      <table id="significance">
        <caption>Two-proportion z-test, 95 % confidence interval of the difference (variant − baseline).</caption>
        <thead>
          <tr>
            <th scope="col">Variant</th>
            <th scope="col">Against</th>
            <th scope="col">Measure</th>
            <th scope="col">Baseline</th>
            <th scope="col">Variant</th>
            <th scope="col">Difference</th>
            <th scope="col">95 % interval</th>
            <th scope="col">p-value</th>
            <th scope="col">Conclusion</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map(({ variant, against, measure, comparison: c }) => (
            <tr>
              <th scope="row">{variant}</th>
              <td>{against}</td>
              <td>{measure}</td>
              <td>{`${percent(c.a.rate)} of ${count(c.a.n)}`}</td>
              <td>{`${percent(c.b.rate)} of ${count(c.b.n)}`}</td>
              <td>{c.difference === null ? "–" : points(c.difference)}</td>
              <td>{c.interval ? `${points(c.interval.low)} to ${points(c.interval.high)}` : "–"}</td>
              <td>{c.pValue === null ? "–" : c.pValue < 0.001 ? "< 0.001" : c.pValue.toFixed(3)}</td>
              <td class={c.tooSmall ? "warn" : ""}>
                {c.tooSmall ? "too small to conclude" : c.pValue !== null && c.pValue < 0.05 ? "significant at 5 %" : "no significant difference"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
