import { describe, expect, it } from "vitest";
import { MEASURE_NAMES, rates, type ChannelSplit } from "../../domain/mis/funnel.ts";
import type { CampaignCounts } from "../../store/campaign-progress.ts";
import type { ReportRow } from "../../store/reports.ts";
import type { CampaignPage as Data } from "../data/campaign.ts";
import { CampaignPage } from "./campaign.tsx";

const counts: CampaignCounts = { enrolled: 0, running: 0, finished: 0, attempted: 0, delivered: 0, failed: 0, outcomes: {} };
const noSplit: ChannelSplit = { callsPlaced: 0, digitalDelivered: 0, digitalUndelivered: 0, openableDelivered: 0, clickableDelivered: 0 };

/** A report row of zeros (rates undefined) in USD, with the fields given. */
function reportRow(fields: Partial<ReportRow>): ReportRow {
  const measures = Object.fromEntries(MEASURE_NAMES.map((name) => [name, name.endsWith("Minor") ? "0" : 0]));
  return {
    ...measures,
    ...rates(measures as never, noSplit),
    currency: "USD",
    costTotal: 0,
    costCurrency: null,
    unpricedMarkets: null,
    costToCollect: null,
    ...fields,
  } as ReportRow;
}

/** The campaign page's HTML for a campaign and the period's totals. */
async function render(campaign: Partial<Data["campaign"]>, timeZone: string, totals: ReportRow[] = []): Promise<string> {
  const data: Data = {
    campaign: { id: "c1", name: "December", status: "running", launchedAt: null, createdAt: new Date("2026-12-01T00:00:00Z"), ...campaign },
    period: { from: "2026-12-01", to: "2026-12-31", timeZone },
    totals,
    days: [],
    channels: [],
    variants: [],
    significance: [],
  };
  return String(await (<CampaignPage data={data} counts={counts} />).toString());
}

describe("the campaign page", () => {
  it("shows the launch day in the reporting zone", async () => {
    // 05:10 UTC on 7 December is still the 6th in Chicago (UTC−6).
    const html = await render({ launchedAt: new Date("2026-12-07T05:10:00Z") }, "America/Chicago");
    expect(html).toContain("launched 2026-12-06");
    expect(html).toContain("days in America/Chicago");
  });

  it("marks cost and cost to collect that leave out markets without unit costs, naming them", async () => {
    const totals = [
      reportRow({ currency: "SGD", costTotal: 1.5, costCurrency: "USD", unpricedMarkets: "MY SG", costToCollect: 0.05 }),
      reportRow({ currency: "IDR", costTotal: 2, costCurrency: "USD", costToCollect: 0.1 }),
    ];
    const html = await render({}, "UTC", totals);
    const cells = (measure: string) =>
      [...new RegExp(`<th scope="row">${measure}</th>((?:<td[^>]*>.*?</td>){2})`).exec(html)![1]!.matchAll(/<td[^>]*>.*?<\/td>/g)].map((m) => m[0]);
    const hint = ' title="excludes channel cost for MY, SG (no unit costs)"';
    expect(cells("Cost to collect")).toEqual([`<td${hint}>5.00 %<sup class="warn">*</sup></td>`, "<td>10.00 %</td>"]);
    expect(cells("Cost")).toEqual([`<td data-value="1.5"${hint}>USD\u00a01.50<sup class="warn">*</sup></td>`, '<td data-value="2">USD\u00a02.00</td>']);
  });
});
