import { describe, expect, it } from "vitest";
import type { CampaignCounts } from "../../store/campaign-progress.ts";
import type { CampaignPage as Data } from "../data/campaign.ts";
import { CampaignPage } from "./campaign.tsx";

const counts: CampaignCounts = { enrolled: 0, running: 0, finished: 0, attempted: 0, delivered: 0, failed: 0, outcomes: {} };
/** The campaign page's HTML for a campaign and the period's totals. */
async function render(campaign: Partial<Data["campaign"]>, timeZone: string, totals: Data["totals"] = []): Promise<string> {
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
});
