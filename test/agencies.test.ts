import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { temporal } from "@temporalio/proto";
import { Worker } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { signTagihPayload, verifyTagihSignature } from "../vendors/tagih-signature.ts";
import type { AccountState, RecallSignal } from "../workflows/account-messages.ts";
import { freePort } from "./ports.ts";
import { accountFixture, api, eventually, startTestStack } from "./stack.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
const servers: Server[] = [];
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  await stack?.stop();
});

interface Notice {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  answered: number;
}

/**
 * An agency's endpoint we control: answers each notice with `answer(n)` (n counts from 1),
 * and starts listening only when asked, so it can be unreachable first.
 */
async function agencyEndpoint(answer: (n: number) => number = () => 200) {
  const port = await freePort();
  const notices: Notice[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const answered = answer(notices.length + 1);
      notices.push({ headers: req.headers, body, answered });
      res.writeHead(answered, { "content-type": "application/json" }).end("{}");
    });
  });
  servers.push(server);
  return {
    url: `http://127.0.0.1:${port}/placements`,
    notices,
    listen: () => new Promise<void>((r) => server.listen(port, "127.0.0.1", r)),
  };
}

const closureNotices = (notices: Notice[]) => notices.filter((n) => (JSON.parse(n.body) as { type: string }).type === "closed");

interface Registered {
  id: string;
  name: string;
  apiKey: string;
  secret: string;
}

async function registerAgency(endpoint: string): Promise<Registered> {
  const created = await api(stack.apiUrl, "POST", "/v1/agencies", { name: `Agency ${randomUUID().slice(0, 8)}`, endpoint, commissionBps: 1500 });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

/** One account in a campaign whose strategy places it with the agency, then sends an SMS. */
async function placedJourney(agency: Registered) {
  const product = `loan-${randomUUID()}`;
  const account = accountFixture({ product });
  await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [account] });
  const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", {
    name: "agency placement",
    strategy: {
      steps: [
        { id: "place", kind: "action", action: "place-with-agency", agency: agency.name },
        { id: "after-recall", kind: "contact", channel: "sms", template: "reminder" },
      ],
    },
    segment: { products: [product] },
  });
  expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
  expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.body.id}/launch`)).status).toBe(202);
  const placement = await eventually(
    () => stack.db.placement.findFirst({ where: { account: { externalId: account.externalId } } }).then((p) => p ?? undefined),
    "placement",
  );
  const enrolment = await stack.db.enrolment.findFirstOrThrow({ where: { campaignId: campaign.body.id }, include: { account: true } });
  const handle = stack.temporal.workflow.getHandle(enrolment.workflowId);
  const state = (until: (s: AccountState) => boolean, what: string) =>
    eventually(async () => {
      const s = await handle.query<AccountState>("accountState");
      return until(s) ? s : undefined;
    }, what);
  const ended = () =>
    eventually(async () => {
      const e = await stack.db.enrolment.findUniqueOrThrow({ where: { id: enrolment.id } });
      return e.status === "finished" ? e : undefined;
    }, "the journey to end");
  return { account: enrolment.account, enrolment, placement, handle, state, ended };
}

/** A listening agency endpoint, its agency, and a journey placed with it that waits for a recall. */
async function placedAndWaiting(answer?: (n: number) => number) {
  const endpoint = await agencyEndpoint(answer);
  await endpoint.listen();
  const agency = await registerAgency(endpoint.url);
  const journey = await placedJourney(agency);
  await journey.state((s) => s.waitingFor === `recall by ${agency.name}`, "the wait for a recall");
  return { endpoint, agency, journey };
}

/**
 * Posts an agency callback with its API key and signature (each replaceable, or left out with
 * null; `signature` sends that header as is). A string body is sent as written.
 */
async function callback(
  agencyId: string,
  body: unknown,
  auth: { apiKey: string | null; secret: string | null; at?: number; signature?: string },
): Promise<{ status: number; body: any }> {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth.apiKey !== null) headers.authorization = `Bearer ${auth.apiKey}`;
  if (auth.signature !== undefined) headers["x-tagih-signature"] = auth.signature;
  else if (auth.secret !== null) headers["x-tagih-signature"] = signTagihPayload(auth.secret, raw, auth.at);
  const response = await fetch(`${stack.apiUrl}/v1/webhooks/agencies/${agencyId}`, { method: "POST", headers, body: raw });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
/** The workflow that tells the agency of a placement's closure. */
const closureWorkflow = (placementId: string) => stack.temporal.workflow.getHandle(`placement-closed-${placementId}`);

/** The placement once the agency acknowledged its closure (the notice runs apart from the journey). */
const closureDelivered = (placementId: string) =>
  eventually(async () => {
    const p = await stack.db.placement.findUniqueOrThrow({ where: { id: placementId } });
    return p.closeNotifiedAt ? p : undefined;
  }, `the agency to acknowledge the closure of placement ${placementId}`);

const as = (agency: Registered) => ({ apiKey: agency.apiKey, secret: agency.secret });
const storedEvents = (agency: Registered, eventId: string) => stack.db.callback.count({ where: { vendor: `agency:${agency.id}`, eventId } });

describe("agency registry", () => {
  it("shows the API key and secret once, stores only the key's hash, lists agencies without credentials", async () => {
    const agency = await registerAgency("https://agency.example.com/tagih");
    expect(agency).toMatchObject({ endpoint: "https://agency.example.com/tagih", commissionBps: 1500 });
    expect(agency.apiKey).toMatch(/^tagih_ak_[\w-]{43}$/);
    expect(agency.secret).toMatch(/^tagih_whsec_[\w-]{43}$/);
    const row = await stack.db.agency.findUniqueOrThrow({ where: { id: agency.id } });
    expect(row.apiKeyHash).toBe(createHash("sha256").update(agency.apiKey).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(agency.apiKey);

    const list = await api(stack.apiUrl, "GET", "/v1/agencies?limit=500");
    expect(list.status).toBe(200);
    const listed = list.body.items.find((a: { id: string }) => a.id === agency.id);
    expect(listed).toMatchObject({ credentialsRotatedAt: null, previousCredentialsValidUntil: null, credentialsRevokedAt: null });
    expect(Object.keys(listed).sort()).toEqual([
      "commissionBps",
      "createdAt",
      "credentialsRevokedAt",
      "credentialsRotatedAt",
      "endpoint",
      "id",
      "name",
      "previousCredentialsValidUntil",
    ]);
    expect(JSON.stringify(list.body)).not.toMatch(/tagih_ak_|tagih_whsec_/);

    expect((await api(stack.apiUrl, "POST", "/v1/agencies", { name: agency.name, endpoint: "https://x.example.com", commissionBps: 0 })).status).toBe(409);
    const invalid = await api(stack.apiUrl, "POST", "/v1/agencies", { name: "X", endpoint: "ftp://x.example.com", commissionBps: 20_000 });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(["commissionBps", "endpoint"]);
  });
});

describe("endpoints under the default TAGIH_PRIVATE_ENDPOINTS=refuse", () => {
  it("refuses an agency endpoint or a notify step that is http or on a private or link-local address, naming the field; a public https one is taken", async () => {
    const strict = await startTestStack({ TAGIH_ROLE: "api", TAGIH_PRIVATE_ENDPOINTS: "refuse" });
    try {
      const register = (endpoint: string) =>
        api(strict.apiUrl, "POST", "/v1/agencies", { name: `Agency ${randomUUID().slice(0, 8)}`, endpoint, commissionBps: 1000 });
      for (const [endpoint, reason] of [
        ["http://agency.example.com/n", "must be an https URL (set TAGIH_PRIVATE_ENDPOINTS=allow for http)"],
        ["https://10.20.0.5/n", "host is a private address (10.20.0.5); set TAGIH_PRIVATE_ENDPOINTS=allow to reach your own network"],
        ["https://169.254.169.254/latest/meta-data/", "host is not a routable public address (169.254.169.254, linkLocal)"],
      ]) {
        const refused = await register(endpoint!);
        expect(refused.status, endpoint).toBe(400);
        expect(refused.body.errors).toEqual([{ field: "endpoint", reason }]);
      }
      expect((await register("https://agency.example.com/n")).status).toBe(201);

      const notify = (url: string) => ({ steps: [{ id: "tell", kind: "action", action: "notify", purpose: "suspend-service", url }] });
      const campaign = await api(strict.apiUrl, "POST", "/v1/campaigns", { name: "Suspensions", strategy: notify("https://127.0.0.1:8443/suspend") });
      expect(campaign.status).toBe(400);
      expect(campaign.body.errors).toEqual([
        { field: "strategy.steps.0.url", reason: "host is a private address (127.0.0.1); set TAGIH_PRIVATE_ENDPOINTS=allow to reach your own network" },
      ]);
      const kept = await api(strict.apiUrl, "POST", "/v1/campaigns", { name: "Suspensions", strategy: notify("https://billing.example.com/suspend") });
      expect(kept.status).toBe(201);
    } finally {
      await strict.stop();
    }
  });

  it("refuses a cloud metadata address even when private networks are allowed", async () => {
    const refused = await api(stack.apiUrl, "POST", "/v1/agencies", {
      name: `Agency ${randomUUID().slice(0, 8)}`,
      endpoint: "http://169.254.169.254/",
      commissionBps: 1,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ field: "endpoint", reason: "host is not a routable public address (169.254.169.254, linkLocal)" }]);
  });
});

describe("placement with an agency", () => {
  it("retries the signed notice while the endpoint is unreachable or failing, until acknowledged; a recall returns the account to its strategy", async () => {
    const endpoint = await agencyEndpoint((n) => (n === 1 ? 503 : 200));
    const agency = await registerAgency(endpoint.url);
    const journey = await placedJourney(agency);

    // Nobody listens yet: the notice fails and Temporal retries it with backoff.
    await eventually(async () => {
      const pending = (await journey.handle.describe()).raw.pendingActivities ?? [];
      const notice = pending.find((a) => a.activityType?.name === "notifyAgency");
      return notice && (notice.attempt ?? 0) >= 3 ? notice : undefined;
    }, "two failed attempts at the notice");
    expect((await stack.db.placement.findUniqueOrThrow({ where: { id: journey.placement.id } })).status).toBe("placed");

    // Then it answers 503 once, then 200.
    await endpoint.listen();
    const acknowledged = await eventually(async () => {
      const p = await stack.db.placement.findUniqueOrThrow({ where: { id: journey.placement.id } });
      return p.status === "acknowledged" ? p : undefined;
    }, "the placement to be acknowledged");
    expect(acknowledged.acknowledgedAt).not.toBeNull();
    expect(endpoint.notices.map((n) => n.answered)).toEqual([503, 200]);

    // The same placement each time, signed with the agency's secret.
    for (const notice of endpoint.notices) {
      expect(verifyTagihSignature(agency.secret, notice.headers["x-tagih-signature"] as string, notice.body).ok).toBe(true);
      expect(notice.headers["idempotency-key"]).toBe(journey.placement.id);
      expect(JSON.parse(notice.body)).toEqual({
        type: "placed",
        placementId: journey.placement.id,
        placedAt: journey.placement.placedAt.toISOString(),
        accountExternalId: journey.account.externalId,
        name: journey.account.name,
        contactPoints: { phone: journey.account.phone, email: null, whatsapp: null },
        balanceMinor: "150000000",
        currency: "IDR",
        daysPastDue: 12,
        dueDate: "2026-12-25",
        jurisdiction: "IN",
        timeZone: journey.account.timeZone,
        locale: "id-ID",
        callbackUrl: `${stack.config.publicBaseUrl}/v1/webhooks/agencies/${agency.id}`,
      });
    }
    expect((await journey.state((s) => s.waitingFor === `recall by ${agency.name}`, "the wait for a recall")).placedWith).toBe(agency.name);

    // The agency reports a contact: recorded.
    const contact = { eventId: `ev-${randomUUID()}`, placementId: journey.placement.id, type: "contact", outcome: "right-party-contact", channel: "voice" };
    expect((await callback(agency.id, contact, as(agency))).body).toMatchObject({ status: "applied", type: "contact" });
    expect(await stack.db.callback.findFirstOrThrow({ where: { vendor: `agency:${agency.id}`, eventId: contact.eventId } })).toMatchObject({
      kind: "agency-contact",
      payload: contact,
    });

    // The agency hands the account back: the strategy goes on with its next step.
    const recall = { eventId: `ev-${randomUUID()}`, placementId: journey.placement.id, type: "recall", reason: "no contact in 30 days" };
    const recalled = await callback(agency.id, recall, as(agency));
    expect(recalled.status, JSON.stringify(recalled.body)).toBe(200);
    expect(recalled.body).toMatchObject({ status: "applied", signalled: 1 });
    expect((await callback(agency.id, recall, as(agency))).body).toMatchObject({ status: "duplicate", signalled: 0 });
    const ended = await journey.ended();
    expect(ended.outcome).toBe("contacted");
    const attempts = await stack.db.contactAttempt.findMany({ where: { enrolmentId: journey.enrolment.id } });
    expect(attempts.map((a) => [a.stepId, a.status])).toEqual([["after-recall", "delivered"]]);
    expect(await stack.db.placement.findUniqueOrThrow({ where: { id: journey.placement.id } })).toMatchObject({ status: "recalled" });
    expect(await storedEvents(agency, recall.eventId)).toBe(1);
  });

  it("records an agency's promise and payment; a full payment ends the journey paid, once", async () => {
    const { agency, journey } = await placedAndWaiting();

    // A date already past or years out is refused as ops' promises are (422 naming it), and pauses nothing.
    const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
    for (const slip of [day(-3), day(800)]) {
      const refused = await callback(
        agency.id,
        { eventId: `ev-${randomUUID()}`, placementId: journey.placement.id, type: "promise", amountMinor: "1000", dueDate: slip },
        as(agency),
      );
      expect(refused, slip).toMatchObject({ status: 422, body: { errors: [{ field: "dueDate" }] } });
    }
    expect(await stack.db.paymentPromise.count({ where: { accountId: journey.account.id } })).toBe(0);

    const dueDate = day(30);
    const promise = { eventId: `ev-${randomUUID()}`, placementId: journey.placement.id, type: "promise", amountMinor: "150000000", dueDate };
    expect((await callback(agency.id, promise, as(agency))).body).toMatchObject({ status: "applied", signalled: 1 });
    expect((await callback(agency.id, promise, as(agency))).body).toMatchObject({ status: "duplicate" });
    const promises = await stack.db.paymentPromise.findMany({ where: { accountId: journey.account.id } });
    expect(promises).toEqual([
      expect.objectContaining({
        amountMinor: 150_000_000n,
        currency: "IDR",
        status: "open",
        source: `agency:${agency.name}`,
        enrolmentId: journey.enrolment.id,
      }),
    ]);
    expect((await journey.state((s) => s.promise !== null, "the promise")).promise).toMatchObject({ promiseId: promises[0]!.id, dueDate });

    const pay = { eventId: `ev-${randomUUID()}`, placementId: journey.placement.id, type: "payment", amountMinor: 150_000_000 };
    const answers = await Promise.all([callback(agency.id, pay, as(agency)), callback(agency.id, pay, as(agency))]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    // Applied once: the concurrent copy is told it was a duplicate, not applied again.
    expect(answers.map((a) => a.body.status).sort()).toEqual(["applied", "duplicate"]);
    expect((await journey.ended()).outcome).toBe("paid");
    const payments = await stack.db.payment.findMany({ where: { accountId: journey.account.id } });
    expect(payments).toEqual([expect.objectContaining({ reference: `agency:${agency.id}:${pay.eventId}`, amountMinor: 150_000_000n, currency: "IDR" })]);
    expect((await stack.db.account.findUniqueOrThrow({ where: { id: journey.account.id } })).balanceMinor).toBe(0n);
    expect(await storedEvents(agency, pay.eventId)).toBe(1);

    // Another event reporting a payment reference already recorded records nothing, and says so.
    const byReference = (eventId: string) => ({ eventId, placementId: journey.placement.id, type: "payment", amountMinor: 5, reference: `AG-${pay.eventId}` });
    expect((await callback(agency.id, byReference(`ev-${randomUUID()}`), as(agency))).body).toMatchObject({ status: "applied" });
    expect((await callback(agency.id, byReference(`ev-${randomUUID()}`), as(agency))).body).toMatchObject({ status: "duplicate" });
    expect(await stack.db.payment.count({ where: { reference: `AG-${pay.eventId}` } })).toBe(1);

    const otherCurrency = { eventId: `ev-${randomUUID()}`, placementId: journey.placement.id, type: "payment", amountMinor: 1, currency: "INR" };
    expect((await callback(agency.id, otherCurrency, as(agency))).status).toBe(422);
  });

  it("tells the agency, signed and once, that a paid account's placement is closed", async () => {
    const { endpoint, agency, journey } = await placedAndWaiting();

    const paid = await api(stack.apiUrl, "POST", `/v1/accounts/${journey.account.id}/payments`, {
      reference: `PAY-${randomUUID()}`,
      amountMinor: 150_000_000,
      currency: "IDR",
    });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    expect((await journey.ended()).outcome).toBe("paid");

    const closed = await closureDelivered(journey.placement.id);
    const closures = closureNotices(endpoint.notices);
    expect(closures).toHaveLength(1);
    const [closure] = closures;
    expect(verifyTagihSignature(agency.secret, closure!.headers["x-tagih-signature"] as string, closure!.body).ok).toBe(true);
    expect(closure!.headers["idempotency-key"]).toBe(`${journey.placement.id}:closed`);
    const row = await stack.db.placement.findUniqueOrThrow({ where: { id: journey.placement.id } });
    expect(row).toMatchObject({ status: "closed", closeReason: "paid", closeNotifiedAt: closed.closeNotifiedAt });
    expect(JSON.parse(closure!.body)).toEqual({
      type: "closed",
      placementId: journey.placement.id,
      accountExternalId: journey.account.externalId,
      closedAt: row.closedAt!.toISOString(),
      reason: "paid",
    });
    const listed = await api(stack.apiUrl, "GET", `/v1/placements?agencyId=${agency.id}`);
    expect(listed.body.items).toEqual([
      expect.objectContaining({ id: journey.placement.id, status: "closed", closeReason: "paid", closeNotifiedAt: row.closeNotifiedAt!.toISOString() }),
    ]);

    // A worker that replays the journey's and the closure's histories decides the same and sends nothing more.
    for (const handle of [journey.handle, closureWorkflow(journey.placement.id)]) {
      await Worker.runReplayHistory({ workflowBundle: { codePath: inject("workflowBundlePath") } }, await handle.fetchHistory());
    }
    expect(closureNotices(endpoint.notices)).toHaveLength(1);
  });

  it.each(["paid", "cancelled"] as const)(
    "ends a journey %s while the agency refuses the closure notice, and delivers the notice once when the agency answers again",
    async (outcome) => {
      let refusing = false;
      const { endpoint, agency, journey } = await placedAndWaiting(() => (refusing ? 503 : 200));
      refusing = true;

      const stopped =
        outcome === "paid"
          ? await api(stack.apiUrl, "POST", `/v1/accounts/${journey.account.id}/payments`, {
              reference: `PAY-${randomUUID()}`,
              amountMinor: 150_000_000,
              currency: "IDR",
            })
          : await api(stack.apiUrl, "POST", `/v1/campaigns/${journey.enrolment.campaignId}/cancel`);
      expect(stopped.status, JSON.stringify(stopped.body)).toBeLessThan(300);
      expect(await journey.handle.result()).toBe(outcome);
      expect(await stack.db.enrolment.findUniqueOrThrow({ where: { id: journey.enrolment.id } })).toMatchObject({ outcome, finishedAt: expect.any(Date) });

      // The agency keeps refusing: the closure stays recorded and its notice retried.
      await eventually(async () => (closureNotices(endpoint.notices).length >= 2 ? true : undefined), "two refused closure notices");
      expect((await closureWorkflow(journey.placement.id).describe()).status.name).toBe("RUNNING");
      const pending = await stack.db.placement.findUniqueOrThrow({ where: { id: journey.placement.id } });
      expect(pending).toMatchObject({ status: "closed", closeReason: outcome, closeNotifiedAt: null });
      expect(pending.closedAt).not.toBeNull();
      const listed = await api(stack.apiUrl, "GET", `/v1/placements?agencyId=${agency.id}`);
      expect(listed.body.items).toEqual([expect.objectContaining({ id: journey.placement.id, status: "closed", closeReason: outcome, closeNotifiedAt: null })]);

      // The agency answers again: told once, and the closure's own workflow ends.
      refusing = false;
      expect(await closureWorkflow(journey.placement.id).result()).toBe("closed");
      const row = await stack.db.placement.findUniqueOrThrow({ where: { id: journey.placement.id } });
      expect(row.closeNotifiedAt).not.toBeNull();
      expect(row.closedAt).toEqual(pending.closedAt);
      const closures = closureNotices(endpoint.notices);
      expect(closures.filter((n) => n.answered === 200)).toHaveLength(1);
      expect(closures.at(-1)!.answered).toBe(200);
      for (const closure of closures) {
        expect(closure.headers["idempotency-key"]).toBe(`${journey.placement.id}:closed`);
        expect(JSON.parse(closure.body)).toMatchObject({ type: "closed", placementId: journey.placement.id, reason: outcome });
      }
    },
  );

  it("closes the placement when a hold stops the journey, retrying the closure until acknowledged; after the release the strategy goes on", async () => {
    // The first closure notice fails: the agency is told again under the same key.
    const { endpoint, agency, journey } = await placedAndWaiting((n) => (n === 2 ? 503 : 200));

    const held = await api(stack.apiUrl, "POST", `/v1/accounts/${journey.account.id}/holds`, { kind: "cease-communication" });
    expect(held.status, JSON.stringify(held.body)).toBe(200);
    const waiting = await journey.state((s) => s.waitingFor === "hold released (cease-communication)", "the wait for the hold's release");
    expect(waiting.placedWith).toBeNull();
    const row = await closureDelivered(journey.placement.id);
    expect(row).toMatchObject({ status: "closed", closeReason: "hold:cease-communication" });
    const closures = closureNotices(endpoint.notices);
    expect(closures.map((n) => n.answered)).toEqual([503, 200]);
    for (const closure of closures) {
      expect(verifyTagihSignature(agency.secret, closure.headers["x-tagih-signature"] as string, closure.body).ok).toBe(true);
      expect(closure.headers["idempotency-key"]).toBe(`${journey.placement.id}:closed`);
      expect(JSON.parse(closure.body)).toMatchObject({ placementId: journey.placement.id, reason: "hold:cease-communication" });
    }

    // The agency is credited with what was paid while it held the account, not after the closure.
    const pay = (reference: string, amountMinor: bigint, paidAt: Date) =>
      stack.db.payment.create({ data: { reference, accountId: journey.account.id, amountMinor, currency: journey.account.currency, paidAt } });
    await pay(`during-${randomUUID()}`, 100n, new Date(row.placedAt.getTime() + 1));
    await pay(`after-${randomUUID()}`, 5_000n, new Date(row.closedAt!.getTime() + 1));
    const report = await api(stack.apiUrl, "GET", "/v1/reports/agencies");
    expect(report.body.rows.find((r: { agency: string }) => r.agency === agency.name)).toMatchObject({ collectedMinor: "100", accountsPaying: 1 });

    expect((await api(stack.apiUrl, "DELETE", `/v1/accounts/${journey.account.id}/holds/cease-communication`)).status).toBe(200);
    expect((await journey.ended()).outcome).toBe("contacted");
    const attempts = await stack.db.contactAttempt.findMany({ where: { enrolmentId: journey.enrolment.id } });
    expect(attempts.map((a) => a.stepId)).toEqual(["after-recall"]);
    expect(closureNotices(endpoint.notices)).toHaveLength(2);
    expect(endpoint.notices).toHaveLength(3);
  });

  it("refuses a missing or wrong API key, a forged, malformed or stale signature, and another agency's placement (as an unknown one), storing nothing", async () => {
    const endpoint = await agencyEndpoint();
    await endpoint.listen();
    const [a, b] = [await registerAgency(endpoint.url), await registerAgency(endpoint.url)];
    const journey = await placedJourney(a);
    const event = (type = "contact") => ({ eventId: `ev-${randomUUID()}`, placementId: journey.placement.id, type, outcome: "no-answer" });
    const cases: [string, Registered, ReturnType<typeof event>, Parameters<typeof callback>[2], number][] = [
      ["no API key", a, event(), { apiKey: null, secret: a.secret }, 401],
      ["an unknown API key", a, event(), { apiKey: "tagih_ak_guess", secret: a.secret }, 403],
      ["another agency's API key", a, event(), { apiKey: b.apiKey, secret: b.secret }, 403],
      ["no signature", a, event(), { apiKey: a.apiKey, secret: null }, 401],
      ["a signature with another agency's secret", a, event(), { apiKey: a.apiKey, secret: b.secret }, 403],
      ["a stale signature", a, event(), { apiKey: a.apiKey, secret: a.secret, at: Math.floor(Date.now() / 1000) - 600 }, 403],
      ["a signature header that is not one", a, event(), { apiKey: a.apiKey, secret: null, signature: "garbage" }, 403],
      ["a signature header without v1", a, event(), { apiKey: a.apiKey, secret: null, signature: `t=${Math.floor(Date.now() / 1000)}` }, 403],
      // Answered as an unknown placement, so another agency's placement ids cannot be probed.
      ["another agency's placement", b, event("recall"), as(b), 404],
    ];
    for (const [what, agency, body, auth, status] of cases) {
      const answer = await callback(agency.id, body, auth);
      expect(answer.status, what).toBe(status);
      expect(await stack.db.callback.count({ where: { eventId: body.eventId } }), what).toBe(0);
    }
    const theirs = await callback(b.id, event("recall"), as(b));
    const unknownId = randomUUID();
    const unknownPlacement = await callback(b.id, { ...event("recall"), placementId: unknownId }, as(b));
    expect(theirs.body.detail).toBe(`no placement ${journey.placement.id} with this agency`);
    expect(unknownPlacement).toMatchObject({ status: 404, body: { detail: `no placement ${unknownId} with this agency` } });
    expect((await stack.db.placement.findUniqueOrThrow({ where: { id: journey.placement.id } })).status).not.toBe("recalled");

    // Authenticated but malformed: 400 naming the field, nothing stored.
    // A week from now, beyond the one day ahead that paidAt may be.
    const weekAhead = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const malformed: [Record<string, unknown>, string][] = [
      [{ eventId: "m-1", placementId: journey.placement.id, type: "visit" }, "type"],
      [{ eventId: "m-2", placementId: journey.placement.id, type: "promise", amountMinor: 10 }, "dueDate"],
      [{ eventId: "m-3", placementId: "P-1", type: "recall" }, "placementId"],
      [{ placementId: journey.placement.id, type: "payment", amountMinor: "1.5" }, "amountMinor"],
      // Dated on a day yet to come, the reports would count it then.
      [{ eventId: "m-5", placementId: journey.placement.id, type: "payment", amountMinor: "15", paidAt: weekAhead }, "paidAt"],
    ];
    for (const [body, field] of malformed) {
      const answer = await callback(a.id, body, as(a));
      expect(answer.status, field).toBe(400);
      expect(answer.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    // No type: every other invalid field is named too.
    const untyped = await callback(a.id, { eventId: "", placementId: "x" }, as(a));
    expect(untyped.status).toBe(400);
    expect(untyped.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(["eventId", "placementId", "type"]);
    expect(await stack.db.callback.count({ where: { vendor: `agency:${a.id}` } })).toBe(0);
    const unknown = await callback(a.id, { eventId: "u-1", placementId: randomUUID(), type: "recall" }, as(a));
    expect(unknown.status).toBe(404);
  });
});

describe("late and redelivered agency events", () => {
  it("ignores a late recall of a placement a hold closed: the journey stays placed with the next agency, which keeps the account", async () => {
    const endpoint = await agencyEndpoint();
    await endpoint.listen();
    const [first, second] = [await registerAgency(endpoint.url), await registerAgency(endpoint.url)];
    const product = `loan-${randomUUID()}`;
    const account = accountFixture({ product });
    await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [account] });
    const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "two agencies",
      strategy: {
        steps: [
          { id: "place-first", kind: "action", action: "place-with-agency", agency: first.name },
          { id: "place-second", kind: "action", action: "place-with-agency", agency: second.name },
          { id: "after-recall", kind: "contact", channel: "sms", template: "reminder" },
        ],
      },
      segment: { products: [product] },
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.body.id}/launch`)).status).toBe(202);
    const enrolment = await eventually(
      () => stack.db.enrolment.findFirst({ where: { campaignId: campaign.body.id } }).then((e) => e ?? undefined),
      "the enrolment",
    );
    const handle = stack.temporal.workflow.getHandle(enrolment.workflowId);
    const waitingFor = (what: string) =>
      eventually(async () => ((await handle.query<AccountState>("accountState")).waitingFor === what ? true : undefined), what);
    await waitingFor(`recall by ${first.name}`);
    const placementOf = (agency: Registered) =>
      eventually(() => stack.db.placement.findFirst({ where: { enrolmentId: enrolment.id, agencyId: agency.id } }).then((p) => p ?? undefined), agency.name);
    const withFirst = await placementOf(first);

    // A dispute closes the first agency's placement; after the release the journey places the account with the second.
    expect((await api(stack.apiUrl, "POST", `/v1/accounts/${enrolment.accountId}/holds`, { kind: "dispute" })).status).toBe(200);
    await closureDelivered(withFirst.id);
    expect((await api(stack.apiUrl, "DELETE", `/v1/accounts/${enrolment.accountId}/holds/dispute`)).status).toBe(200);
    await waitingFor(`recall by ${second.name}`);
    const withSecond = await eventually(async () => {
      const p = await placementOf(second);
      return p.status === "acknowledged" ? p : undefined;
    }, "the second agency's acknowledgement");

    // The first agency recalls its closed placement late: nothing changes, nobody is told.
    const late = { eventId: `ev-${randomUUID()}`, placementId: withFirst.id, type: "recall", reason: "no contact in 30 days" };
    for (const delivery of [1, 2]) {
      const answer = await callback(first.id, late, as(first));
      expect(answer, `delivery ${delivery}`).toMatchObject({ status: 200, body: { status: "ignored", signalled: 0, placementId: withFirst.id } });
    }
    expect(await stack.db.placement.findUniqueOrThrow({ where: { id: withFirst.id } })).toMatchObject({
      status: "closed",
      closeReason: "hold:dispute",
      recalledAt: null,
    });
    expect(await stack.db.placement.findUniqueOrThrow({ where: { id: withSecond.id } })).toMatchObject({ status: "acknowledged", closedAt: null });
    // Still the second agency's: the journey sent nothing in house and told that agency of no closure.
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await handle.query<AccountState>("accountState")).waitingFor).toBe(`recall by ${second.name}`);
    expect(await stack.db.contactAttempt.count({ where: { enrolmentId: enrolment.id } })).toBe(0);
    expect(closureNotices(endpoint.notices).map((n) => JSON.parse(n.body).placementId)).toEqual([withFirst.id]);
    // Nor does a recall signal of the first placement that reaches the journey late (a retried delivery).
    await handle.signal("recalled", { placementId: withFirst.id } satisfies RecallSignal);
    await eventually(async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      const signalled = events.findLastIndex((e) => e.workflowExecutionSignaledEventAttributes);
      return events.slice(signalled).some((e) => e.workflowTaskCompletedEventAttributes) ? true : undefined;
    }, "the journey to handle the signal");
    expect((await handle.query<AccountState>("accountState")).waitingFor).toBe(`recall by ${second.name}`);

    // The second agency's own recall still hands the account back.
    const recall = { eventId: `ev-${randomUUID()}`, placementId: withSecond.id, type: "recall" };
    expect((await callback(second.id, recall, as(second))).body).toMatchObject({ status: "applied", signalled: 1 });
    expect(await handle.result()).toBe("contacted");
    // A second recall event of that placement, now recalled, is ignored as well.
    const again = await callback(second.id, { ...recall, eventId: `ev-${randomUUID()}` }, as(second));
    expect(again.body).toMatchObject({ status: "ignored", signalled: 0 });
  });

  it("applies only the event as first stored: a redelivery with other content is 409 naming the fields, an exact one gets the first answer", async () => {
    const { agency, journey } = await placedAndWaiting();
    const eventId = `ev-${randomUUID()}`;
    const wrongCurrency = { eventId, placementId: journey.placement.id, type: "payment", amountMinor: "777", currency: "USD" };
    const refused = await callback(agency.id, wrongCurrency, as(agency));
    expect(refused.status).toBe(422);

    // The same eventId, now paying the account in full in its currency: refused, nothing applied.
    const rewritten = { eventId, placementId: journey.placement.id, type: "payment", amountMinor: "150000000", currency: "IDR" };
    const conflict = await callback(agency.id, rewritten, as(agency));
    expect(conflict.status).toBe(409);
    expect(conflict.body.detail).toContain(eventId);
    expect(conflict.body.errors.map((e: { field: string }) => e.field)).toEqual(["amountMinor", "currency"]);
    expect((await stack.db.account.findUniqueOrThrow({ where: { id: journey.account.id } })).balanceMinor).toBe(150_000_000n);
    expect(await stack.db.payment.count({ where: { accountId: journey.account.id } })).toBe(0);
    expect((await journey.handle.query<AccountState>("accountState")).paidMinor).toBe("0");

    // The first event again, in another key order, spelling and whitespace: the same refusal, not a 409.
    const respelled = `{ "currency": "usd", "amountMinor": 777, "type": "payment", "placementId": "${journey.placement.id.toUpperCase()}", "eventId": "${eventId}" }`;
    for (const body of [wrongCurrency, respelled]) {
      const again = await callback(agency.id, body, as(agency));
      expect(again.status).toBe(422);
      expect(again.body.errors).toEqual(refused.body.errors);
    }
    const stored = await stack.db.callback.findMany({ where: { vendor: `agency:${agency.id}`, eventId } });
    expect(stored).toEqual([expect.objectContaining({ payload: wrongCurrency, appliedAt: null })]);

    // An applied event rewritten later is refused too, not answered as a duplicate.
    const contact = { eventId: `ev-${randomUUID()}`, placementId: journey.placement.id, type: "contact", outcome: "no-answer" };
    expect((await callback(agency.id, contact, as(agency))).body).toMatchObject({ status: "applied" });
    const recontact = await callback(agency.id, { ...contact, outcome: "right-party-contact", type: "contact" }, as(agency));
    expect(recontact).toMatchObject({ status: 409, body: { errors: [expect.objectContaining({ field: "outcome" })] } });
    const { outcome, ...rest } = contact;
    expect((await callback(agency.id, { ...rest, note: undefined, outcome }, as(agency))).body).toMatchObject({ status: "duplicate" });
  });
});

describe("agency credentials", () => {
  it("rotates the key and secret (the replaced ones work 24 hours), revokes them all, audits both, and signs notices with the current secret", async () => {
    const { endpoint, agency, journey } = await placedAndWaiting();
    const contact = () => ({ eventId: `ev-${randomUUID()}`, placementId: journey.placement.id, type: "contact", outcome: "no-answer" });
    const ops = (await api(stack.apiUrl, "POST", "/v1/api-keys", { name: "ops", role: "ops" })).body.key as string;
    expect((await api(stack.apiUrl, "POST", `/v1/agencies/${agency.id}/credentials`, undefined, { key: ops })).status).toBe(403);
    expect((await api(stack.apiUrl, "POST", `/v1/agencies/${randomUUID()}/credentials`)).status).toBe(404);

    const rotated = await api(stack.apiUrl, "POST", `/v1/agencies/${agency.id}/credentials`);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const current: Registered = { ...agency, apiKey: rotated.body.apiKey, secret: rotated.body.secret };
    expect(current.apiKey).toMatch(/^tagih_ak_[\w-]{43}$/);
    expect(current.apiKey).not.toBe(agency.apiKey);
    expect(current.secret).not.toBe(agency.secret);
    const graceEnds = Date.parse(rotated.body.previousCredentialsValidUntil);
    expect(Math.abs(graceEnds - (Date.now() + 24 * 3600_000))).toBeLessThan(60_000);
    const row = await stack.db.agency.findUniqueOrThrow({ where: { id: agency.id } });
    expect(row.apiKeyHash).toBe(createHash("sha256").update(current.apiKey).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(current.apiKey);

    // Within the grace: the old key and secret, the new ones, and any mix verify.
    for (const auth of [as(agency), as(current), { apiKey: current.apiKey, secret: agency.secret }, { apiKey: agency.apiKey, secret: current.secret }]) {
      expect((await callback(agency.id, contact(), auth)).body).toMatchObject({ status: "applied" });
    }
    // Notices go out signed with the new secret.
    const paid = await api(stack.apiUrl, "POST", `/v1/accounts/${journey.account.id}/payments`, {
      reference: `PAY-${randomUUID()}`,
      amountMinor: 150_000_000,
      currency: "IDR",
    });
    expect(paid.status).toBe(200);
    await closureDelivered(journey.placement.id);
    const [closure] = closureNotices(endpoint.notices);
    expect(verifyTagihSignature(current.secret, closure!.headers["x-tagih-signature"] as string, closure!.body).ok).toBe(true);
    expect(verifyTagihSignature(agency.secret, closure!.headers["x-tagih-signature"] as string, closure!.body).ok).toBe(false);

    // Once the 24 hours are over, only the new credentials verify.
    await stack.db.agency.update({ where: { id: agency.id }, data: { previousValidUntil: new Date(Date.now() - 1000) } });
    const expired = await callback(agency.id, contact(), as(agency));
    expect(expired.status).toBe(403);
    expect(expired.body.detail).toContain("replaced");
    expect((await callback(agency.id, contact(), { apiKey: current.apiKey, secret: agency.secret })).status).toBe(403);
    expect((await callback(agency.id, contact(), as(current))).status).toBe(200);

    // Revoked: no callback at all, with any key; a repeat changes nothing.
    const revoked = await api(stack.apiUrl, "DELETE", `/v1/agencies/${agency.id}/credentials`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.credentialsRevokedAt).not.toBeNull();
    expect(JSON.stringify(revoked.body)).not.toMatch(/tagih_ak_|tagih_whsec_/);
    const refused = contact();
    const answer = await callback(agency.id, refused, as(current));
    expect(answer.status).toBe(403);
    expect(answer.body.detail).toContain("revoked");
    expect(await storedEvents(agency, refused.eventId)).toBe(0);
    expect((await api(stack.apiUrl, "DELETE", `/v1/agencies/${agency.id}/credentials`)).body.credentialsRevokedAt).toBe(revoked.body.credentialsRevokedAt);

    // A rotation after a revocation gives the revoked credentials no grace.
    const renewed = await api(stack.apiUrl, "POST", `/v1/agencies/${agency.id}/credentials`);
    expect(renewed.body).toMatchObject({ previousCredentialsValidUntil: null, credentialsRevokedAt: null });
    expect((await callback(agency.id, contact(), as(current))).status).toBe(403);
    expect((await callback(agency.id, contact(), { apiKey: renewed.body.apiKey, secret: renewed.body.secret })).status).toBe(200);

    const listed = (await api(stack.apiUrl, "GET", "/v1/agencies?limit=500")).body.items.find((a: { id: string }) => a.id === agency.id);
    expect(listed).toMatchObject({ credentialsRotatedAt: expect.any(String), previousCredentialsValidUntil: null, credentialsRevokedAt: null });
    const audit = await api(stack.apiUrl, "GET", "/v1/audit?limit=200");
    const entries = audit.body.items.filter((e: { target: { id: string } }) => e.target.id === agency.id).map((e: { action: string }) => e.action);
    expect(entries).toEqual(["agency.rotate-credentials", "agency.revoke-credentials", "agency.rotate-credentials", "agency.register"]);
  });
});

describe("journeys placed before the closure notice ran on its own", () => {
  it.each(["placement-paid-closure-awaited.json", "placement-held-closure-awaited.json"])(
    "replay as they ran: %s waits for the closure notice within the journey",
    async (file) => {
      // Recorded with the workflow code before `patched("placement-closure-workflow")`: paid while
      // placed, and held then released, each calling `closePlacement` within the journey.
      const recorded: unknown = JSON.parse(readFileSync(new URL(`histories/${file}`, import.meta.url), "utf8"));
      const history = temporal.api.history.v1.History.fromObject(recorded as Record<string, unknown>);
      await expect(Worker.runReplayHistory({ workflowBundle: { codePath: inject("workflowBundlePath") } }, history)).resolves.toBeUndefined();
    },
  );
});

describe("journeys placed before closure notices", () => {
  it("replay as they ran: a journey paid while placed ends without a closure notice", async () => {
    // Recorded with the workflow code before `patched("placement-closed-notice")`, kept as
    // protobuf.js's object form (the SDK's JSON reader fails with the protobuf.js installed here).
    const recorded: unknown = JSON.parse(readFileSync(new URL("histories/placement-paid-before-closure-notices.json", import.meta.url), "utf8"));
    const history = temporal.api.history.v1.History.fromObject(recorded as Record<string, unknown>);
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: inject("workflowBundlePath") } }, history)).resolves.toBeUndefined();
  });
});
