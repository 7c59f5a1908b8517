import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountFixture, api, eventually, startTestStack } from "./stack.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** A template name no other test uses. */
const uniqueName = () => `t-${randomUUID().slice(0, 8)}`;

async function createTemplate(input: Record<string, unknown>) {
  const created = await api(stack.apiUrl, "POST", "/v1/templates", input);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body as { id: string; version: number; createdAt: string };
}

/** Stores accounts of a product of their own; answers their ids and E.164 phones in order. */
async function storeAccounts(accounts: ReturnType<typeof accountFixture>[]) {
  const product = `loan-${randomUUID()}`;
  const withProduct = accounts.map((a) => ({ ...a, product }));
  const stored = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: withProduct });
  expect(stored.status, JSON.stringify(stored.body)).toBe(200);
  const rows = await stack.db.account.findMany({ where: { product }, orderBy: { externalId: "asc" } });
  const byExternalId = new Map(rows.map((r) => [r.externalId, r]));
  return { product, accounts: withProduct.map((a) => byExternalId.get(a.externalId)!) };
}

describe("the template library", () => {
  it("numbers versions per name, channel and locale, reads any version and lists the latest", async () => {
    const name = uniqueName();
    const v1 = await createTemplate({ name, channel: "sms", locale: "id", body: "Halo {{firstName}} v1" });
    const v2 = await createTemplate({ name, channel: "sms", locale: "id", body: "Halo {{firstName}} v2" });
    const en = await createTemplate({ name, channel: "sms", locale: "en", body: "Hi {{firstName}}" });
    expect([v1.version, v2.version, en.version]).toEqual([1, 2, 1]);

    const latest = await api(stack.apiUrl, "GET", `/v1/templates/${name}/sms/id`);
    expect(latest.body).toMatchObject({ version: 2, body: "Halo {{firstName}} v2" });
    expect(latest.body.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const first = await api(stack.apiUrl, "GET", `/v1/templates/${name}/sms/id?version=1`);
    expect(first.body).toMatchObject({ version: 1, body: "Halo {{firstName}} v1" });
    expect((await api(stack.apiUrl, "GET", `/v1/templates/${name}/sms/id?version=3`)).status).toBe(404);
    expect((await api(stack.apiUrl, "GET", `/v1/templates/${name}/email/id`)).status).toBe(404);

    // One page per template with limit=1: the latest version of each, en before id.
    const pages = [];
    let cursor: string | null = null;
    do {
      const response = await api(stack.apiUrl, "GET", `/v1/templates?name=${name}&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      expect(response.status).toBe(200);
      pages.push(...response.body.items);
      cursor = response.body.nextCursor;
    } while (cursor);
    expect(pages.map((t) => [t.locale, t.version])).toEqual([
      ["en", 1],
      ["id", 2],
    ]);
    const smsInId = await api(stack.apiUrl, "GET", `/v1/templates?name=${name}&locale=id&channel=sms`);
    expect(smsInId.body.items).toHaveLength(1);
  });

  it("refuses a template that does not parse with 400 naming the field and the line", async () => {
    const bad = await api(stack.apiUrl, "POST", "/v1/templates", { name: uniqueName(), channel: "sms", locale: "id", body: "Halo\n{{firstName}" });
    expect(bad.status).toBe(400);
    expect(bad.contentType).toContain("application/problem+json");
    expect(bad.body.errors).toHaveLength(1);
    expect(bad.body.errors[0].field).toBe("body");
    expect(bad.body.errors[0].reason).toMatch(/^is not a valid Handlebars template: Parse error on line 2: Expecting/);

    const noSubject = await api(stack.apiUrl, "POST", "/v1/templates", { name: uniqueName(), channel: "email", locale: "en", body: "Hi {{firstName}}" });
    expect(noSubject.status).toBe(400);
    expect(noSubject.body.errors[0]).toMatchObject({ field: "body", reason: expect.stringContaining("subject") });
  });
});

describe("previews", () => {
  it("renders for an account in its locale, falling back to English, with the worker's formatting", async () => {
    const name = uniqueName();
    await createTemplate({
      name,
      channel: "sms",
      locale: "id",
      body: "Halo {{firstName}}, tagihan {{money amountDue currency}} jatuh tempo {{date dueDate}}.",
    });
    await createTemplate({ name, channel: "sms", locale: "en", body: "Hi {{firstName}}, {{money amountDue currency}} is due on {{date dueDate}}." });
    const { accounts } = await storeAccounts([
      accountFixture({ name: "Budi Santoso" }),
      accountFixture({ name: "Asha Rao", locale: "en-IN", currency: "INR", balanceMinor: 2_500_000 }),
      accountFixture({ name: "Wanjiru Kamau", locale: "sw-KE", currency: "KES", balanceMinor: 250_050 }),
    ]);
    const [budi, asha, wanjiru] = accounts;
    const preview = async (accountId: string) => {
      const response = await api(stack.apiUrl, "POST", "/v1/templates/preview", { accountId, name, channel: "sms" });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return { ...response.body, text: response.body.text.replace(/\u00a0/g, " ") };
    };
    expect(await preview(budi!.id)).toEqual({
      source: "library",
      locale: "id",
      version: 1,
      text: "Halo Budi, tagihan Rp 1.500.000 jatuh tempo 25 Desember 2026.",
    });
    expect(await preview(asha!.id)).toEqual({ source: "library", locale: "en", version: 1, text: "Hi Asha, ₹25,000.00 is due on 25 December 2026." });
    // The English text, with money and date still formatted in the debtor's own locale.
    expect((await preview(wanjiru!.id)).text).toBe("Hi Wanjiru, Ksh 2,500.50 is due on 25 Desemba 2026.");

    // Without a library template, the shipped one in the debtor's language.
    const shipped = await api(stack.apiUrl, "POST", "/v1/templates/preview", { accountId: wanjiru!.id, name: "reminder", channel: "sms" });
    expect(shipped.body).toMatchObject({ source: "shipped", locale: "sw", version: null, text: expect.stringContaining("Habari Wanjiru") });
    const missing = await api(stack.apiUrl, "POST", "/v1/templates/preview", { accountId: budi!.id, name: uniqueName(), channel: "sms" });
    expect(missing.status).toBe(404);
  });

  it("previews a chosen version and email parts, and names a variable accounts do not have", async () => {
    const name = uniqueName();
    await createTemplate({ name, channel: "sms", locale: "id", body: "Halo {{firstName}}" });
    await createTemplate({ name, channel: "sms", locale: "id", body: "Halo\n{{firstName}} {{nmae}}" });
    await createTemplate({
      name,
      channel: "email",
      locale: "id",
      body: "{{!-- subject --}}\n{{creditor}}: {{money amountDue currency}}\n{{!-- text --}}\nHalo {{firstName}}\n{{!-- html --}}\n<p>Halo <b>{{name}}</b></p>",
    });
    const { accounts } = await storeAccounts([accountFixture({ name: "Budi <Santoso>" })]);
    const budi = accounts[0]!;

    const v1 = await api(stack.apiUrl, "POST", `/v1/templates/${name}/sms/id/preview`, { accountId: budi.id, version: 1 });
    expect(v1.body).toEqual({ source: "library", locale: "id", version: 1, text: "Halo Budi" });

    const latest = await api(stack.apiUrl, "POST", `/v1/templates/${name}/sms/id/preview`, { accountId: budi.id });
    expect(latest.status).toBe(400);
    expect(latest.contentType).toContain("application/problem+json");
    expect(latest.body.errors).toEqual([{ field: "body", reason: 'unknown variable "nmae" at line 2, column 17' }]);

    const email = await api(stack.apiUrl, "POST", `/v1/templates/${name}/email/id/preview`, { accountId: budi.id });
    expect(email.status, JSON.stringify(email.body)).toBe(200);
    expect(email.body.email.subject.replace(/\u00a0/g, " ")).toBe("Tagih Demo Lender: Rp 1.500.000");
    // As sent: the template has no unsubscribe link, so the footer carries it, in Indonesian.
    const link = /^Halo Budi\n\nUntuk berhenti menerima email ini, berhenti berlangganan di sini: (http\S+\/v1\/unsubscribe\S+)$/.exec(email.body.email.text);
    expect(link, email.body.email.text).not.toBeNull();
    expect(email.body.email.html).toBe(
      `<p>Halo <b>Budi &lt;Santoso&gt;</b></p>\n<p><a clicktracking=off href="${link![1]}">Untuk berhenti menerima email ini, berhenti berlangganan di sini</a></p>`,
    );

    expect((await api(stack.apiUrl, "POST", `/v1/templates/${name}/sms/id/preview`, { accountId: randomUUID() })).status).toBe(404);
    expect((await api(stack.apiUrl, "POST", `/v1/templates/${name}/sms/id/preview`, { accountId: budi.id, version: 7 })).status).toBe(404);
  });
});

describe("pinned versions", () => {
  it("keeps a running campaign on the version it launched with while a new campaign gets the new one", async () => {
    const name = uniqueName();
    await createTemplate({ name, channel: "sms", locale: "en", body: "First version for {{firstName}}" });
    const first = await storeAccounts([accountFixture({ name: "Asha Rao", locale: "en-IN" })]);
    const second = await storeAccounts([accountFixture({ name: "Ravi Kumar", locale: "en-IN" })]);
    const phone = (account: { phone: string | null }) => account.phone!;
    const messagesTo = (to: string) => stack.sandbox!.messages().filter((m) => m.to === to);

    const steps = [
      { id: "first", kind: "contact", channel: "sms", template: name },
      { id: "pause", kind: "wait", duration: "PT8S" },
      { id: "second", kind: "contact", channel: "sms", template: name },
    ];
    const running = await api(stack.apiUrl, "POST", "/v1/campaigns", { name: "Pinned", strategy: { steps }, segment: { products: [first.product] } });
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${running.body.id}/launch`)).body.pinnedTemplates).toEqual([
      { name, channel: "sms", locale: "en", version: 1 },
    ]);
    await eventually(async () => (messagesTo(phone(first.accounts[0]!)).length === 1 ? true : undefined), "the running campaign's first SMS");

    const edited = await createTemplate({ name, channel: "sms", locale: "en", body: "Second version for {{firstName}}" });
    expect(edited.version).toBe(2);
    const fresh = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "Fresh",
      strategy: { steps: steps.slice(0, 1) },
      segment: { products: [second.product] },
    });
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${fresh.body.id}/launch`)).body.pinnedTemplates).toEqual([
      { name, channel: "sms", locale: "en", version: 2 },
    ]);

    const [freshMessage] = await eventually(async () => {
      const sent = messagesTo(phone(second.accounts[0]!));
      return sent.length === 1 ? sent : undefined;
    }, "the new campaign's SMS");
    expect(freshMessage!.body).toBe("Second version for Ravi");

    const sentByRunning = await eventually(async () => {
      const sent = messagesTo(phone(first.accounts[0]!));
      return sent.length === 2 ? sent : undefined;
    }, "the running campaign's second SMS");
    // The second SMS went out after version 2 existed, and still reads version 1.
    expect(Date.parse(sentByRunning[1]!.createdAt)).toBeGreaterThan(Date.parse(edited.createdAt));
    expect(sentByRunning.map((m) => m.body)).toEqual(["First version for Asha", "First version for Asha"]);
  });
});

describe("WhatsApp approved templates from the library", () => {
  it("sends the pinned Content SID with the variables the template defines", async () => {
    const name = uniqueName();
    const contentSid = `HX${"cd34".repeat(8)}`;
    await createTemplate({
      name,
      channel: "whatsapp",
      locale: "id",
      body: "Halo {{firstName}}",
      contentSid,
      contentVariables: { "1": "{{name}}", "2": "{{money amountDue currency}}" },
    });
    const { product, accounts } = await storeAccounts([accountFixture({ consent: { whatsapp: true } })]);
    const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "WhatsApp from the library",
      strategy: { steps: [{ id: "wa", kind: "contact", channel: "whatsapp", template: name }] },
      segment: { products: [product] },
    });
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${campaign.body.id}/launch`)).status).toBe(202);
    const [message] = await eventually(async () => {
      const sent = stack.sandbox!.messages().filter((m) => m.to === `whatsapp:${accounts[0]!.phone}`);
      return sent.length > 0 ? sent : undefined;
    }, "the WhatsApp message");
    // Outside the 24-hour window (the debtor never wrote): only the approved template may go.
    expect(message).toMatchObject({ channel: "whatsapp", contentSid, body: "" });
    const variables = JSON.parse(message!.contentVariables!);
    expect({ ...variables, "2": variables["2"].replace(/\u00a0/g, " ") }).toEqual({ "1": "Budi Santoso", "2": "Rp 1.500.000" });
  });
});
