import type { CampaignCounts } from "../../store/campaign-progress.ts";
import type { CampaignPage as Data, ChannelRow, VariantArm, VariantSignificance } from "../data/campaign.ts";
import { amounts, count, percent, rate } from "../format.ts";
import { Chart, COLOURS, Layout, PeriodForm } from "../layout.tsx";

/** A count cell: the figure formatted, the exact number in `data-value`. */
const N = (props: { n: number }) => <td data-value={props.n}>{count(props.n)}</td>;

/** One campaign: progress, the contact funnel, a daily trend, channels and variants over a period. */
export function CampaignPage(props: { data: Data; counts: CampaignCounts }) {
  const { campaign, period, funnel } = props.data;
  const stages: [string, number][] = [
    ["Attempted", funnel.attempted],
    ["Delivered", funnel.delivered],
    ["Opened / read", funnel.opened],
    ["Clicked", funnel.clicked],
    ["Replied", funnel.replied],
    ["Promised to pay", funnel.promises],
    ["Paid", funnel.payers],
  ];
  const active = props.data.days.filter((d) => d.attempted || d.delivered || d.replied || d.promises || d.payments);
  return (
    <Layout title={campaign.name} charts>
      <p class="meta">
        <a href="/dashboard">← All campaigns</a>
      </p>
      <h1>{campaign.name}</h1>
      <p class="meta">
        <span class={`status status-${campaign.status}`}>{campaign.status}</span>{" "}
        {campaign.launchedAt ? `launched ${campaign.launchedAt.toISOString().slice(0, 10)}` : "not launched"}
      </p>
      <Progress counts={props.counts} />
      <section>
        <PeriodForm action={`/dashboard/campaigns/${campaign.id}`} period={period} />
        <p class="note">
          Figures below cover {period.from} to {period.to} (UTC days).
        </p>
      </section>
      <section>
        <h2>Contact funnel</h2>
        <div class="grid">
          <Chart
            id="funnel-chart"
            label="Contact funnel"
            config={{
              type: "bar",
              data: { labels: stages.map((s) => s[0]), datasets: [{ label: "Count", data: stages.map((s) => s[1]), backgroundColor: COLOURS[0] }] },
              options: { indexAxis: "y", plugins: { legend: { display: false } } },
            }}
          />
          <table id="funnel">
            <caption>Attempts handed to a vendor and what came of them; promises captured; accounts that paid.</caption>
            <thead>
              <tr>
                <th scope="col">Stage</th>
                <th scope="col">Count</th>
                <th scope="col">Of attempted</th>
              </tr>
            </thead>
            <tbody>
              {stages.map(([stage, n]) => (
                <tr>
                  <th scope="row">{stage}</th>
                  <N n={n} />
                  <td>{percent(rate(n, funnel.attempted))}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Collected</th>
                <td colspan={2} id="collected">
                  {amounts(funnel.collected)}
                </td>
              </tr>
            </tfoot>
          </table>
        </div>
      </section>
      <section>
        <h2>Daily trend</h2>
        <Chart
          id="daily-chart"
          label="Attempts, deliveries, replies, promises and payments per day"
          config={{
            type: "line",
            data: {
              labels: props.data.days.map((d) => d.day),
              datasets: (
                [
                  ["Attempted", "attempted"],
                  ["Delivered", "delivered"],
                  ["Replied", "replied"],
                  ["Promises", "promises"],
                  ["Payments", "payments"],
                ] as const
              ).map(([label, key], i) => ({ label, data: props.data.days.map((d) => d[key]), borderColor: COLOURS[i], backgroundColor: COLOURS[i] })),
            },
            options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
          }}
        />
        <div class="scroll">
          <table id="daily">
            <caption>Days with activity (days without any are left out).</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Attempted</th>
                <th scope="col">Delivered</th>
                <th scope="col">Replied</th>
                <th scope="col">Promises</th>
                <th scope="col">Payments</th>
              </tr>
            </thead>
            <tbody>
              {active.map((d) => (
                <tr>
                  <th scope="row">{d.day}</th>
                  <N n={d.attempted} />
                  <N n={d.delivered} />
                  <N n={d.replied} />
                  <N n={d.promises} />
                  <N n={d.payments} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <Channels channels={props.data.channels} />
      <Variants variants={props.data.variants} significance={props.data.significance} />
    </Layout>
  );
}

function Progress(props: { counts: CampaignCounts }) {
  const c = props.counts;
  const cells: [string, number][] = [
    ["Enrolled", c.enrolled],
    ["Running", c.running],
    ["Finished", c.finished],
    ["Attempted", c.attempted],
    ["Delivered", c.delivered],
    ["Failed", c.failed],
  ];
  return (
    <section class="scroll">
      <h2>Progress</h2>
      <table id="progress">
        <caption>Since launch, whatever the period.</caption>
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

function Channels(props: { channels: ChannelRow[] }) {
  const measures = [
    ["Attempted", "attempted"],
    ["Delivered", "delivered"],
    ["Opened / read", "opened"],
    ["Clicked", "clicked"],
    ["Replied", "replied"],
  ] as const;
  return (
    <section>
      <h2>Channels</h2>
      <div>
        <Chart
          id="channels-chart"
          label="Contact funnel per channel"
          config={{
            type: "bar",
            data: {
              labels: props.channels.map((c) => c.channel),
              datasets: measures.map(([label, key], i) => ({ label, data: props.channels.map((c) => c[key]), backgroundColor: COLOURS[i] })),
            },
            options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
          }}
        />
        <div class="scroll">
          <table id="channels">
            <thead>
              <tr>
                <th scope="col">Channel</th>
                {measures.map(([label]) => (
                  <th scope="col">{label}</th>
                ))}
                <th scope="col">Delivery rate</th>
                <th scope="col">Reply rate</th>
              </tr>
            </thead>
            <tbody>
              {props.channels.map((c) => (
                <tr>
                  <th scope="row">{c.channel}</th>
                  {measures.map(([, key]) => (
                    <N n={c[key]} />
                  ))}
                  <td>{percent(rate(c.delivered, c.attempted))}</td>
                  <td>{percent(rate(c.replied, c.delivered))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </section>
  );
}

function Variants(props: { variants: VariantArm[]; significance: VariantSignificance[] }) {
  return (
    <section>
      <h2>Variants</h2>
      <div>
        <Chart
          id="variants-chart"
          label="Payer rate per variant"
          config={{
            type: "bar",
            data: {
              labels: props.variants.map((v) => `${v.variant} (${v.role})`),
              datasets: [
                {
                  label: "Accounts paying, % of enrolled",
                  data: props.variants.map((v) => {
                    const r = rate(v.payers, v.enrolled);
                    return r === null ? null : Math.round(r * 1000) / 10;
                  }),
                  backgroundColor: props.variants.map((v) => (v.role === "holdout" ? "#8891a5" : v.role === "champion" ? COLOURS[0] : COLOURS[2])),
                },
              ],
            },
            options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
          }}
        />
        <div class="scroll">
          <table id="variants">
            <thead>
              <tr>
                <th scope="col">Variant</th>
                <th scope="col">Role</th>
                <th scope="col">Enrolled</th>
                <th scope="col">Touched</th>
                <th scope="col">Attempted</th>
                <th scope="col">Delivered</th>
                <th scope="col">Payers</th>
                <th scope="col">Payer rate</th>
                <th scope="col">Collected</th>
              </tr>
            </thead>
            <tbody>
              {props.variants.map((v) => (
                <tr>
                  <th scope="row">{v.variant}</th>
                  <td>{v.role}</td>
                  <N n={v.enrolled} />
                  <N n={v.touched} />
                  <N n={v.attempted} />
                  <N n={v.delivered} />
                  <N n={v.payers} />
                  <td>{percent(rate(v.payers, v.enrolled))}</td>
                  <td>{amounts(v.collected)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
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
