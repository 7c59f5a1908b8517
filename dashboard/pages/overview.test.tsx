import { describe, expect, it } from "vitest";
import type { CampaignListing } from "../data/overview.ts";
import { OverviewPage } from "./overview.tsx";

const campaign: CampaignListing = {
  id: "c1",
  name: "December",
  status: "running",
  launchedAt: new Date("2026-12-07T05:10:00Z"),
  counts: { enrolled: 0, running: 0, finished: 0, attempted: 0, delivered: 0, failed: 0, outcomes: {} },
  collected: [],
};

describe("the campaigns overview", () => {
  it("shows each launch day in the reporting zone and names the zone", async () => {
    const html = String(await (<OverviewPage campaigns={[campaign]} nextCursor={null} timeZone="America/Chicago" />).toString());
    // 05:10 UTC on 7 December is still the 6th in Chicago (UTC−6).
    expect(html).toMatch(/<td>2026-12-06<\/td>/);
    expect(html).toContain("the day in America/Chicago");
  });
});
