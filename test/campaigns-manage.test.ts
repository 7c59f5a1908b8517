import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { campaignWorkflowId } from "../domain/workflow-ids.ts";
import { accountFixture, api, eventually, startTestStack } from "./stack.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const sms = { steps: [{ id: "reminder-sms", kind: "contact", channel: "sms", template: "reminder" }] };

async function createCampaign(extra: Record<string, unknown> = {}) {
  const created = await api(stack.apiUrl, "POST", "/v1/campaigns", { name: `Reminders ${randomUUID()}`, strategy: sms, ...extra });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body as { id: string; name: string; createdAt: string };
}

/** Accounts of a product of their own, so only this test's campaign enrols them. */
async function accountsOfOwnProduct(count: number) {
  const product = `loan-${randomUUID()}`;
  const accounts = Array.from({ length: count }, () => accountFixture({ product }));
  const stored = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts });
  expect(stored.status, JSON.stringify(stored.body)).toBe(200);
  const phones = new Set(accounts.map((a) => `+${a.phone.replace(/\D/g, "")}`));
  return { product, phones };
}

/** Every page of a listing, following `nextCursor`. */
async function allPages(path: string) {
  const pages: { items: { id: string; status: string; createdAt: string }[]; nextCursor: string | null }[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const response = await api(stack.apiUrl, "GET", `${path}${cursor ? `${separator}cursor=${encodeURIComponent(cursor)}` : ""}`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    pages.push(response.body);
    cursor = response.body.nextCursor;
  } while (cursor !== null);
  return pages;
}

describe("listing campaigns", () => {
  it("pages through every campaign newest first, each once, and filters by status", async () => {
    const created: Awaited<ReturnType<typeof createCampaign>>[] = [];
    // A product nobody has: launching enrols no one.
    for (let i = 0; i < 5; i++) created.push(await createCampaign({ segment: { products: [`none-${randomUUID()}`] } }));
    const launched = created[2]!;
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${launched.id}/launch`)).status).toBe(202);

    const pages = await allPages("/v1/campaigns?limit=2");
    expect(pages.slice(0, -1).every((p) => p.items.length === 2)).toBe(true);
    const ids = pages.flatMap((p) => p.items.map((c) => c.id));
    expect(new Set(ids).size).toBe(ids.length);
    // Newest first: ours appear in reverse order of creation.
    const ours = ids.filter((id) => created.some((c) => c.id === id));
    expect(ours).toEqual(created.map((c) => c.id).reverse());
    const times = pages.flatMap((p) => p.items.map((c) => Date.parse(c.createdAt)));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const drafts = (await allPages("/v1/campaigns?status=draft&limit=3")).flatMap((p) => p.items);
    expect(drafts.every((c) => c.status === "draft")).toBe(true);
    expect(drafts.map((c) => c.id)).not.toContain(launched.id);
    expect(drafts.map((c) => c.id)).toEqual(expect.arrayContaining(created.filter((c) => c !== launched).map((c) => c.id)));
    const running = (await allPages("/v1/campaigns?status=running")).flatMap((p) => p.items);
    expect(running.map((c) => c.id)).toContain(launched.id);
  });

  it("refuses an unknown status, a bad limit and a forged cursor, naming the field", async () => {
    for (const [query, field] of [
      ["status=sleeping", "query.status"],
      ["limit=0", "query.limit"],
      ["cursor=bm90LWEtY3Vyc29y", "query.cursor"],
    ]) {
      const response = await api(stack.apiUrl, "GET", `/v1/campaigns?${query}`);
      expect(response.status).toBe(400);
      expect(response.contentType).toContain("application/problem+json");
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });
});

describe("draft campaigns", () => {
  it("stores the default attribution windows and takes a partial one", async () => {
    const plain = await createCampaign();
    expect(plain).toMatchObject({ attribution: { windowDays: { sms: 7, whatsapp: 7, voice: 7, email: 5 }, promiseGraceDays: 2 }, schedule: {} });
    const own = await createCampaign({ attribution: { windowDays: { email: 3 }, promiseGraceDays: 5 } });
    expect(own).toMatchObject({ attribution: { windowDays: { sms: 7, whatsapp: 7, voice: 7, email: 3 }, promiseGraceDays: 5 } });
  });

  it("changes a draft's name, strategy, segment, schedule and attribution, validated like a new one", async () => {
    const draft = await createCampaign({ segment: { jurisdictions: ["ID"] } });
    const startAt = new Date(Date.now() + 86_400_000).toISOString();
    const patched = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${draft.id}`, {
      name: "January reminders",
      variants: [
        { name: "champion", weight: 80, strategy: sms },
        { name: "holdout", weight: 20, holdout: true },
      ],
      segment: { daysPastDue: { min: 30 } },
      schedule: { startAt },
      attribution: { windowDays: { sms: 3 } },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const read = await api(stack.apiUrl, "GET", `/v1/campaigns/${draft.id}`);
    expect(read.body).toMatchObject({
      name: "January reminders",
      status: "draft",
      segment: { daysPastDue: { min: 30 } },
      schedule: { startAt },
      attribution: { windowDays: { sms: 3, email: 5 } },
      strategy: {
        variants: [
          { name: "champion", weight: 80 },
          { name: "holdout", weight: 20, holdout: true },
        ],
      },
    });

    // Only the name changes; the variants stay.
    const renamed = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${draft.id}`, { name: "February reminders" });
    expect(renamed.body).toMatchObject({ name: "February reminders", strategy: { variants: [{ name: "champion" }, { name: "holdout" }] } });
    // A single strategy replaces the variants.
    const single = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${draft.id}`, { strategy: sms });
    expect(single.body.strategy.variants).toEqual([expect.objectContaining({ name: "champion", weight: 1 })]);
  });

  it("refuses bad fields with 400 naming each, and changes nothing", async () => {
    const draft = await createCampaign();
    const bad = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${draft.id}`, {
      name: "",
      schedule: { startAt: "tomorrow" },
      attribution: { windowDays: { sms: -1 } },
      segment: { currency: "rupiah" },
    });
    expect(bad.status).toBe(400);
    expect(bad.contentType).toContain("application/problem+json");
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      "attribution.windowDays.sms",
      "name",
      "schedule.startAt",
      "segment.currency",
    ]);

    const both = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${draft.id}`, { variants: [{ name: "champion", weight: 1, strategy: sms }], strategy: sms });
    expect(both.status).toBe(400);
    expect(both.body.errors).toEqual([{ field: "strategy", reason: "give exactly one of strategy and variants" }]);

    const unknown = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${draft.id}`, { colour: "red" });
    expect(unknown.status).toBe(400);

    const backwards = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${draft.id}`, {
      schedule: { startAt: "2027-01-02T09:00:00+07:00", endAt: "2027-01-01T09:00:00+07:00" },
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors).toEqual([{ field: "schedule.endAt", reason: "must be after startAt" }]);

    const badTemplate = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${draft.id}`, {
      templates: [{ name: "reminder", channel: "sms", locale: "id", body: "Halo\n{{firstName" }],
    });
    expect(badTemplate.status).toBe(400);
    expect(badTemplate.body.errors[0].field).toBe("templates.0.body");
    expect(badTemplate.body.errors[0].reason).toMatch(/line 2/);

    expect((await api(stack.apiUrl, "GET", `/v1/campaigns/${draft.id}`)).body).toMatchObject({ name: draft.name, schedule: {}, templates: [] });
  });

  it("refuses to change or delete a launched campaign with 409, and deletes a draft", async () => {
    const launched = await createCampaign({ segment: { products: [`none-${randomUUID()}`] } });
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${launched.id}/launch`)).status).toBe(202);
    const patched = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${launched.id}`, { name: "Too late" });
    expect(patched.status).toBe(409);
    expect(patched.contentType).toContain("application/problem+json");
    expect(patched.body.detail).toMatch(/is running; only drafts change/);
    expect((await api(stack.apiUrl, "DELETE", `/v1/campaigns/${launched.id}`)).status).toBe(409);
    expect((await api(stack.apiUrl, "GET", `/v1/campaigns/${launched.id}`)).body.name).toBe(launched.name);

    const draft = await createCampaign();
    expect((await api(stack.apiUrl, "DELETE", `/v1/campaigns/${draft.id}`)).status).toBe(204);
    expect((await api(stack.apiUrl, "GET", `/v1/campaigns/${draft.id}`)).status).toBe(404);
    expect((await api(stack.apiUrl, "DELETE", `/v1/campaigns/${draft.id}`)).status).toBe(404);
  });
});

describe("controls racing each other", () => {
  // Before, the launch recorded "running" after a cancel that came while it started the
  // workflow, and the cancel, finding a draft, signalled nobody: the campaign ran on.
  it("a cancel sent with the launch leaves the campaign cancelled and its workflow ended, whichever comes first", async () => {
    for (let i = 0; i < 6; i++) {
      const campaign = await createCampaign({ segment: { products: [`none-${randomUUID()}`] } });
      const [launch, cancel] = await Promise.all([
        api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/launch`),
        api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/cancel`),
      ]);
      expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
      expect(cancel.body.status).toBe("cancelled");
      // A launch that lost is refused; one that won is cancelled right after.
      expect([202, 409]).toContain(launch.status);
      expect((await api(stack.apiUrl, "GET", `/v1/campaigns/${campaign.id}`)).body.status).toBe("cancelled");
      if (launch.status === 202) {
        const result = await stack.temporal.workflow.getHandle(campaignWorkflowId(campaign.id)).result();
        expect(result).toMatchObject({ phase: "cancelled" });
      }
    }
  });

  it("a pause sent with a cancel never leaves a cancelled campaign paused, and it cannot be resumed", async () => {
    for (let i = 0; i < 4; i++) {
      const campaign = await createCampaign({ segment: { products: [`none-${randomUUID()}`] } });
      expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/launch`)).status).toBe(202);
      const [pause, cancel] = await Promise.all([
        api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/pause`),
        api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/cancel`),
      ]);
      expect(cancel.body.status).toBe("cancelled");
      expect([200, 409]).toContain(pause.status);
      expect((await api(stack.apiUrl, "GET", `/v1/campaigns/${campaign.id}`)).body.status).toBe("cancelled");
      expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/resume`)).status).toBe(409);
    }
  });
});

describe("placement steps", () => {
  const placing = (agency: string) => ({ steps: [{ id: "place", kind: "action", action: "place-with-agency", agency }] });

  it("refuses a strategy naming an agency that is not registered, at creation and on a change, naming the step", async () => {
    const missing = `No such agency ${randomUUID()}`;
    const created = await api(stack.apiUrl, "POST", "/v1/campaigns", { name: "Placements", strategy: placing(missing), segment: {} });
    expect(created.status).toBe(400);
    expect(created.body.errors).toEqual([{ field: "strategy.steps.0.agency", reason: `names no registered agency: ${missing}` }]);
    const variants = [
      { name: "champion", weight: 1, strategy: sms },
      { name: "challenger", weight: 1, strategy: placing(missing) },
    ];
    const draft = await createCampaign();
    const before = (await api(stack.apiUrl, "GET", `/v1/campaigns/${draft.id}`)).body.strategy;
    const patched = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${draft.id}`, { variants });
    expect(patched.status).toBe(400);
    expect(patched.body.errors).toEqual([{ field: "variants.1.strategy.steps.0.agency", reason: `names no registered agency: ${missing}` }]);
    expect((await api(stack.apiUrl, "GET", `/v1/campaigns/${draft.id}`)).body.strategy).toEqual(before);

    const agency = await api(stack.apiUrl, "POST", "/v1/agencies", {
      name: `Registered ${randomUUID()}`,
      endpoint: "http://127.0.0.1:9/notices",
      commissionBps: 1000,
    });
    expect((await api(stack.apiUrl, "POST", "/v1/campaigns", { name: "Placements", strategy: placing(agency.body.name), segment: {} })).status).toBe(201);
  });
});

describe("scheduled campaigns", () => {
  it("contacts nobody before startAt, then enrols and sends once it passes", async () => {
    const { product, phones } = await accountsOfOwnProduct(2);
    const startAt = new Date(Date.now() + 6_000);
    const campaign = await createCampaign({ segment: { products: [product] }, schedule: { startAt: startAt.toISOString() } });
    const launched = await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/launch`);
    expect(launched.status).toBe(202);

    const before = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaign.id}/summary`);
    expect(before.body).toMatchObject({ status: "running", phase: "scheduled", enrolled: 0, attempted: 0 });
    expect(stack.sandbox!.messages().filter((m) => phones.has(m.to))).toEqual([]);

    const sent = await eventually(async () => {
      const messages = stack.sandbox!.messages().filter((m) => phones.has(m.to));
      return messages.length === 2 ? messages : undefined;
    }, "both reminders after startAt");
    for (const message of sent) expect(Date.parse(message.createdAt)).toBeGreaterThanOrEqual(startAt.getTime());
    const enrolments = await stack.db.enrolment.findMany({ where: { campaignId: campaign.id } });
    expect(enrolments).toHaveLength(2);
    for (const e of enrolments) expect(e.enrolledAt.getTime()).toBeGreaterThanOrEqual(startAt.getTime());
  });

  it("can be cancelled while it waits for startAt, and never contacts anyone", async () => {
    const { product, phones } = await accountsOfOwnProduct(1);
    const campaign = await createCampaign({ segment: { products: [product] }, schedule: { startAt: new Date(Date.now() + 3_600_000).toISOString() } });
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/launch`)).status).toBe(202);
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/cancel`)).status).toBe(200);
    const result = await stack.temporal.workflow.getHandle(campaignWorkflowId(campaign.id)).result();
    expect(result).toMatchObject({ phase: "cancelled", enrolled: 0 });
    expect(await stack.db.enrolment.count({ where: { campaignId: campaign.id } })).toBe(0);
    expect(stack.sandbox!.messages().filter((m) => phones.has(m.to))).toEqual([]);
  });

  it("refuses to launch a campaign whose schedule has ended", async () => {
    const campaign = await createCampaign({ schedule: { startAt: "2026-01-01T09:00:00+07:00", endAt: "2026-01-02T09:00:00+07:00" } });
    const launch = await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/launch`);
    expect(launch.status).toBe(409);
    expect(launch.body.detail).toMatch(/schedule ended at 2026-01-02T09:00:00\+07:00/);
    expect((await api(stack.apiUrl, "GET", `/v1/campaigns/${campaign.id}`)).body.status).toBe("draft");
  });

  it("cancels every account still on its journey at endAt and completes", async () => {
    const { product } = await accountsOfOwnProduct(1);
    const endAt = new Date(Date.now() + 8_000).toISOString();
    const campaign = await createCampaign({
      segment: { products: [product] },
      schedule: { endAt },
      strategy: {
        steps: [
          { id: "reminder-sms", kind: "contact", channel: "sms", template: "reminder" },
          { id: "later", kind: "wait", duration: "P7D" },
        ],
      },
    });
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/launch`)).status).toBe(202);
    const ended = await eventually(
      async () => {
        const summary = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaign.id}/summary`);
        return summary.body.status === "completed" ? summary.body : undefined;
      },
      "the campaign completed at endAt",
      40_000,
    );
    expect(ended).toMatchObject({ enrolled: 1, running: 0, attempted: 1 });
  });
});
