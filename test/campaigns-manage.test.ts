import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { temporal } from "@temporalio/proto";
import { Worker } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { campaignWorkflowId } from "../domain/workflow-ids.ts";
import type { Prisma } from "../generated/prisma/client.ts";
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
    const text = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${draft.id}`, '{"name":"As text"}', { headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
    expect(text.contentType).toContain("application/problem+json");

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

  // Before, a change replaced each object whole: extending endAt deleted startAt (the campaign
  // then contacted at once), a new promiseGraceDays reset the windows to the defaults.
  it("merges a change into the draft's schedule, attribution and segment (JSON Merge Patch: null removes a key)", async () => {
    const schedule = { startAt: "2027-01-04T09:00:00+07:00", endAt: "2027-01-31T18:00:00+07:00" };
    const draft = await createCampaign({
      schedule,
      attribution: { windowDays: { sms: 3, email: 2 }, promiseGraceDays: 4 },
      segment: { products: ["card"], daysPastDue: { min: 30 } },
    });
    const patch = async (body: Record<string, unknown>, contentType = "application/json") => {
      const response = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${draft.id}`, body, { headers: { "content-type": contentType } });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body;
    };

    // RFC 7386's own media type, as merge-patch clients send it.
    expect((await patch({ name: "Merged" }, "application/merge-patch+json")).name).toBe("Merged");
    expect((await patch({ attribution: { promiseGraceDays: 5 } })).attribution).toEqual({
      windowDays: { sms: 3, whatsapp: 7, voice: 7, email: 2 },
      promiseGraceDays: 5,
    });
    expect((await patch({ schedule: { endAt: "2027-02-28T18:00:00+07:00" } })).schedule).toEqual({ ...schedule, endAt: "2027-02-28T18:00:00+07:00" });
    expect((await patch({ segment: { daysPastDue: { max: 90 } } })).segment).toEqual({ products: ["card"], daysPastDue: { min: 30, max: 90 } });
    expect((await patch({ attribution: { windowDays: { voice: 1 } } })).attribution.windowDays).toEqual({ sms: 3, whatsapp: 7, voice: 1, email: 2 });

    // The merged draft is validated: a merge that leaves endAt before startAt is refused.
    const backwards = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${draft.id}`, { schedule: { startAt: "2027-03-01T09:00:00+07:00" } });
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors).toEqual([{ field: "schedule.endAt", reason: "must be after startAt" }]);

    const removed = await patch({ schedule: { startAt: null }, segment: { products: null, daysPastDue: { min: null } } });
    expect(removed).toMatchObject({ schedule: { endAt: "2027-02-28T18:00:00+07:00" }, segment: { daysPastDue: { max: 90 } } });
    expect(removed.schedule).not.toHaveProperty("startAt");
    expect(removed.segment).not.toHaveProperty("products");

    // Arrays replace; null removes the templates, the whole schedule or segment.
    const template = { name: "reminder", channel: "sms", locale: "id", body: "Halo {{firstName}}" };
    expect((await patch({ templates: [template] })).templates).toEqual([template]);
    expect((await patch({ templates: null, schedule: null, segment: null })).templates).toEqual([]);
    expect((await api(stack.apiUrl, "GET", `/v1/campaigns/${draft.id}`)).body).toMatchObject({ schedule: {}, segment: {}, templates: [] });
  });

  // Before, a misspelled bound was dropped ({"from":100} stored as {}) and the campaign enrolled
  // everyone; a bound beyond bigint was stored and enrolment failed for ever.
  it("refuses a segment that could not be meant, naming the field", async () => {
    const refused = async (segment: Record<string, unknown>) => {
      const created = await api(stack.apiUrl, "POST", "/v1/campaigns", { name: "Segments", strategy: sms, segment });
      expect(created.status, JSON.stringify(created.body)).toBe(400);
      return created.body.errors.map((e: { field: string }) => e.field);
    };
    expect(await refused({ products: ["card"], daysPastDue: { from: 100 }, balanceMinor: { minimum: "999999" } })).toEqual([
      "segment.daysPastDue.from",
      "segment.balanceMinor.minimum",
    ]);
    expect(await refused({ balanceMinor: { min: "999999999999999999999999999" } })).toEqual(["segment.balanceMinor.min"]);
    expect(await refused({ daysPastDue: { min: 30, max: 1 } })).toEqual(["segment.daysPastDue.max"]);
    expect(await refused({ balanceMinor: { min: "30", max: "1" } })).toEqual(["segment.balanceMinor.max"]);
    expect(await refused({ jurisdictions: ["ID", "ZZ"] })).toEqual(["segment.jurisdictions.1"]);

    const draft = await createCampaign();
    const patched = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${draft.id}`, { segment: { daysPastDue: { from: 100 } } });
    expect(patched.status).toBe(400);
    expect(patched.body.errors).toEqual([{ field: "segment.daysPastDue.from", reason: "is not one of min, max" }]);
  });

  it("refuses two campaign templates for the same name, channel and locale, naming the second", async () => {
    const template = { name: "reminder", channel: "sms", locale: "id", body: "Halo {{firstName}}" };
    const created = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "Twice",
      strategy: sms,
      templates: [template, { ...template, locale: "en" }, { ...template, body: "Hai {{firstName}}" }],
    });
    expect(created.status).toBe(400);
    expect(created.body.errors).toEqual([{ field: "templates.2", reason: "repeats templates.0 (the same name, channel and locale)" }]);
  });

  it("enrols accounts whatever the case of the segment's products", async () => {
    const { product } = await accountsOfOwnProduct(2);
    const campaign = await createCampaign({ segment: { products: [product.toUpperCase()] } });
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/launch`)).status).toBe(202);
    await eventually(async () => ((await stack.db.enrolment.count({ where: { campaignId: campaign.id } })) === 2 ? true : undefined), "both accounts enrolled");
  });

  it("refuses to change or delete a launched campaign with 409, and deletes a draft", async () => {
    const launched = await createCampaign({ segment: { products: [`none-${randomUUID()}`] } });
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${launched.id}/launch`)).status).toBe(202);
    const patched = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${launched.id}`, { name: "Too late" });
    expect(patched.status).toBe(409);
    expect(patched.contentType).toContain("application/problem+json");
    expect(patched.body.detail).toMatch(/is running; only drafts change/);
    // Whatever the body: the campaign cannot change, so what is wrong with the change is moot.
    const invalid = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${launched.id}`, { name: "", colour: "red", segment: { daysPastDue: { from: 1 } } });
    expect(invalid.status).toBe(409);
    expect(invalid.body.detail).toMatch(/is running; only drafts change/);
    expect((await api(stack.apiUrl, "DELETE", `/v1/campaigns/${launched.id}`)).status).toBe(409);
    expect((await api(stack.apiUrl, "GET", `/v1/campaigns/${launched.id}`)).body.name).toBe(launched.name);

    const draft = await createCampaign();
    expect((await api(stack.apiUrl, "DELETE", `/v1/campaigns/${draft.id}`)).status).toBe(204);
    expect((await api(stack.apiUrl, "GET", `/v1/campaigns/${draft.id}`)).status).toBe(404);
    expect((await api(stack.apiUrl, "DELETE", `/v1/campaigns/${draft.id}`)).status).toBe(404);
  });
});

describe("controls racing each other", () => {
  it("five launches at once start the campaign once: one 202 and one audit entry", async () => {
    const campaign = await createCampaign({ segment: { products: [`none-${randomUUID()}`] } });
    const launches = await Promise.all(Array.from({ length: 5 }, () => api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/launch`)));
    expect(launches.map((l) => l.status).sort()).toEqual([200, 200, 200, 200, 202]);
    expect(launches.filter((l) => l.body.alreadyLaunched === false)).toHaveLength(1);
    expect(await stack.db.auditEntry.count({ where: { action: "campaign.launch", targetId: campaign.id } })).toBe(1);
  });

  // Before, the launch claimed the draft it had read and pinned that draft's templates though a
  // change committed meanwhile: the campaign ran the new strategy with the old strategy's pins.
  it("a change committed while a launch is under way is not launched with the pins of the draft it replaced", async () => {
    const [before, after] = [`before-${randomUUID()}`, `after-${randomUUID()}`];
    for (const name of [before, after]) {
      const template = await api(stack.apiUrl, "POST", "/v1/templates", { name, channel: "sms", locale: "id", body: `Halo {{firstName}} (${name})` });
      expect(template.status, JSON.stringify(template.body)).toBe(201);
    }
    const smsWith = (template: string) => ({ steps: [{ id: "sms", kind: "contact", channel: "sms", template }] });
    const campaign = await createCampaign({ strategy: smsWith(before), segment: { products: [`none-${randomUUID()}`] } });

    // The change is written as a PATCH writes it, while the launch, having read the draft and
    // pinned its templates, waits for the row to claim it. (Through the API the PATCH would
    // queue behind the launch on that row; locking the template library instead stalls every
    // journey's rendering and starves the connection pool.)
    const stored = (await api(stack.apiUrl, "GET", `/v1/campaigns/${campaign.id}`)).body.strategy;
    const changed = JSON.parse(JSON.stringify(stored).replaceAll(before, after)) as Prisma.InputJsonValue;
    let launch!: Promise<Awaited<ReturnType<typeof api>>>;
    await stack.db.$transaction(
      async (tx) => {
        const locked = await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid FROM campaigns WHERE id = ${campaign.id}::uuid FOR UPDATE`;
        const pid = locked[0]!.pid;
        launch = api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/launch`);
        await eventually(async () => {
          const rows = await stack.db.$queryRaw<{ blocked: number }[]>`
            SELECT count(*)::int AS blocked FROM pg_stat_activity WHERE ${pid}::int = ANY(pg_blocking_pids(pid))`;
          return rows[0]!.blocked > 0 ? true : undefined;
        }, "the launch waiting to claim the draft");
        await tx.campaign.update({ where: { id: campaign.id }, data: { strategy: changed } });
      },
      { timeout: 30_000 },
    );
    const raced = await launch;
    expect(raced.status).toBe(409);
    expect(raced.body.detail).toMatch(/was changed while it was being launched; nothing was launched/);
    expect((await api(stack.apiUrl, "GET", `/v1/campaigns/${campaign.id}`)).body).toMatchObject({ status: "draft", pinnedTemplates: [] });

    const relaunched = await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/launch`);
    expect(relaunched.status).toBe(202);
    expect(relaunched.body.strategy.variants[0].strategy.steps[0].template).toBe(after);
    expect(relaunched.body.pinnedTemplates).toEqual([{ name: after, channel: "sms", locale: "id", version: 1 }]);
  });

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
    // The cancelled journey counts as finished: enrolled is running + finished.
    expect(ended).toMatchObject({ enrolled: 1, running: 0, finished: 1, outcomes: { cancelled: 1 }, attempted: 1 });
  });
});

describe("completion", () => {
  // Before, a campaign looked for finished accounts once an hour: it stayed running (and out
  // of ?status=completed) up to an hour after its last account finished.
  it("completes within half a minute of its last account finishing", async () => {
    const { product } = await accountsOfOwnProduct(2);
    const campaign = await createCampaign({ segment: { products: [product] }, strategy: { steps: [{ id: "done", kind: "end", outcome: "reviewed" }] } });
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.id}/launch`)).status).toBe(202);
    await eventually(async () => {
      const summary = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaign.id}/summary`);
      return summary.body.finished === 2 ? true : undefined;
    }, "both accounts finished");
    const finishedAt = Date.now();
    const completed = await eventually(
      async () => {
        const summary = await api(stack.apiUrl, "GET", `/v1/campaigns/${campaign.id}/summary`);
        return summary.body.status === "completed" ? summary.body : undefined;
      },
      "the campaign completed",
      45_000,
    );
    expect(Date.now() - finishedAt).toBeLessThan(35_000);
    expect(completed).toMatchObject({ phase: "completed", enrolled: 2, running: 0, finished: 2, outcomes: { reviewed: 2 } });
    const listed = (await allPages("/v1/campaigns?status=completed&limit=500")).flatMap((p) => p.items.map((c) => c.id));
    expect(listed).toContain(campaign.id);
  });

  it("replays a campaign recorded when it looked for finished accounts hourly", async () => {
    // Recorded with the workflow code before prompt completion checks: scheduled, paused and
    // resumed while waiting, enrolled, two hourly checks, then completed.
    const recorded: unknown = JSON.parse(readFileSync(new URL("histories/campaign-hourly-completion-checks.json", import.meta.url), "utf8"));
    const history = temporal.api.history.v1.History.fromObject(recorded as Record<string, unknown>);
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: inject("workflowBundlePath") } }, history)).resolves.toBeUndefined();
  });
});
