import type { CampaignListing } from "../data/overview.ts";
import { amounts, count } from "../format.ts";
import { Chart, COLOURS, Layout } from "../layout.tsx";
import { dayIn } from "../period.ts";

/** Campaigns, newest first: status, launch day in the reporting zone, progress of enrolments and what was collected. */
export function OverviewPage(props: { campaigns: CampaignListing[]; nextCursor: string | null; timeZone: string }) {
  const charted = props.campaigns.filter((c) => c.counts.enrolled > 0).slice(0, 20);
  return (
    <Layout title="Campaigns" charts={charted.length > 0}>
      <h1>Campaigns</h1>
      {charted.length > 0 && (
        <section>
          <h2>Enrolments</h2>
          <Chart
            id="enrolments-chart"
            label="Running and finished enrolments per campaign"
            config={{
              type: "bar",
              data: {
                labels: charted.map((c) => c.name),
                datasets: [
                  { label: "Running", data: charted.map((c) => c.counts.running), backgroundColor: COLOURS[0] },
                  { label: "Finished", data: charted.map((c) => c.counts.finished), backgroundColor: COLOURS[1] },
                ],
              },
              options: { indexAxis: "y", scales: { x: { stacked: true }, y: { stacked: true } } },
            }}
          />
        </section>
      )}
      <section class="scroll">
        <table id="campaigns">
          <caption>
            Launched: the day in {props.timeZone} (the reporting time zone). Attempted and delivered: the campaign report's totals since launch, every currency
            together (attempts that left the compliance gate; those delivered or read). Collected: payments by enrolled accounts since their enrolment, per
            currency.
          </caption>
          <thead>
            <tr>
              <th scope="col">Campaign</th>
              <th scope="col">Status</th>
              <th scope="col">Launched</th>
              <th scope="col">Enrolled</th>
              <th scope="col">Running</th>
              <th scope="col">Finished</th>
              <th scope="col">Attempted</th>
              <th scope="col">Delivered</th>
              <th scope="col">Collected</th>
            </tr>
          </thead>
          <tbody>
            {props.campaigns.map((c) => (
              <tr data-campaign={c.id}>
                <th scope="row">
                  <a href={`/dashboard/campaigns/${c.id}`}>{c.name}</a>
                </th>
                <td>
                  <span class={`status status-${c.status}`}>{c.status}</span>
                </td>
                <td>{c.launchedAt ? dayIn(c.launchedAt, props.timeZone) : "–"}</td>
                <td data-value={c.counts.enrolled}>{count(c.counts.enrolled)}</td>
                <td data-value={c.counts.running}>{count(c.counts.running)}</td>
                <td data-value={c.counts.finished}>{count(c.counts.finished)}</td>
                <td data-value={c.counts.attempted}>{count(c.counts.attempted)}</td>
                <td data-value={c.counts.delivered}>{count(c.counts.delivered)}</td>
                <td>{amounts(c.collected)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {props.campaigns.length === 0 && <p class="note">No campaigns yet.</p>}
        {props.nextCursor && (
          <p>
            <a href={`/dashboard?cursor=${encodeURIComponent(props.nextCursor)}`}>Older campaigns →</a>
          </p>
        )}
      </section>
    </Layout>
  );
}
