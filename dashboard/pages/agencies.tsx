import type { AgencyRow } from "../../store/portfolio-reports.ts";
import { count, money, percent } from "../format.ts";
import { Layout, PeriodForm, RateChart } from "../layout.tsx";
import type { Period } from "../period.ts";

/** Agency performance: placements made in the period and what was collected while placed. */
export function AgenciesPage(props: { rows: AgencyRow[]; period: Period; slaDays: number }) {
  const label = (r: AgencyRow) => `${r.agency} (${r.currency})`;
  return (
    <Layout title="Agencies" charts>
      <h1>Agency performance</h1>
      <section>
        <PeriodForm action="/dashboard/agencies" period={props.period} />
        <p class="note">
          Placements made from {props.period.from} to {props.period.to} (days in {props.period.timeZone}, the reporting time zone); collected: payments while
          the account was placed.
        </p>
      </section>
      <section>
        <RateChart
          id="agencies-chart"
          label="Liquidation rate and placement success per agency"
          labels={props.rows.map(label)}
          rates={{ "Liquidation rate": props.rows.map((r) => r.liquidationRate), "Placement success": props.rows.map((r) => r.placementSuccess) }}
        />
      </section>
      <section class="scroll">
        <table id="agencies">
          <caption>
            One row per agency and currency. Liquidation: collected ÷ placed amount. Placement success: placements with any payment ÷ placements. First contact
            in SLA: placements contacted within {props.slaDays} days ÷ placements due a first contact.
          </caption>
          <thead>
            <tr>
              <th scope="col">Agency</th>
              <th scope="col">Placements</th>
              <th scope="col">Placed</th>
              <th scope="col">Collected</th>
              <th scope="col">Accounts paying</th>
              <th scope="col">Liquidation rate</th>
              <th scope="col">Placement success</th>
              <th scope="col">First contact in SLA</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr>
                <th scope="row">{r.agency}</th>
                <td data-value={r.placements}>{count(r.placements)}</td>
                <td data-value={String(r.placedMinor)}>{money(r.placedMinor, r.currency)}</td>
                <td data-value={String(r.collectedMinor)}>{money(r.collectedMinor, r.currency)}</td>
                <td data-value={r.accountsPaying}>{count(r.accountsPaying)}</td>
                <td>{percent(r.liquidationRate)}</td>
                <td>{percent(r.placementSuccess)}</td>
                <td>{percent(r.slaAdherence)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {props.rows.length === 0 && <p class="note">No placements in this period.</p>}
      </section>
    </Layout>
  );
}
