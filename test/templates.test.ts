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
      text: "Halo Budi, tagihan Rp 1.500.000 jatuh tempo 25 Desember 2026. Balas STOP untuk berhenti.",
    });
    expect(await preview(asha!.id)).toEqual({
      source: "library",
      locale: "en",
      version: 1,
      text: "Hi Asha, ₹25,000.00 is due on 25 December 2026. Reply STOP to opt out.",
    });
    // The English text, with money and date still formatted in the debtor's own locale; the
    // opt-out instruction a template lacks is added in the text's language.
    expect((await preview(wanjiru!.id)).text).toBe("Hi Wanjiru, Ksh 2,500.50 is due on 25 Desemba 2026. Reply STOP to opt out.");

    // Without a library template, the shipped one in the debtor's language.
    const shipped = await api(stack.apiUrl, "POST", "/v1/templates/preview", { accountId: wanjiru!.id, name: "reminder", channel: "sms" });
    expect(shipped.body).toMatchObject({ source: "shipped", locale: "sw", version: null, text: expect.stringContaining("Habari Wanjiru") });
    const missing = await api(stack.apiUrl, "POST", "/v1/templates/preview", { accountId: budi!.id, name: uniqueName(), channel: "sms" });
    expect(missing.status).toBe(404);
  });

  it("previews a chosen version and email parts, and names a variable accounts do not have", async () => {
    const name = uniqueName();
    await createTemplate({ name, channel: "sms", locale: "id", body: "Halo {{firstName}}" });
    // Saving refuses an unknown variable now: version 2 is one stored before that check.
    await stack.db.template.create({ data: { name, channel: "sms", locale: "id", version: 2, body: "Halo\n{{firstName}} {{nmae}}" } });
    await createTemplate({
      name,
      channel: "email",
      locale: "id",
      body: "{{!-- subject --}}\n{{creditor}}: {{money amountDue currency}}\n{{!-- text --}}\nHalo {{firstName}}\n{{!-- html --}}\n<p>Halo <b>{{name}}</b></p>",
    });
    const { accounts } = await storeAccounts([accountFixture({ name: "Budi <Santoso>" })]);
    const budi = accounts[0]!;

    const v1 = await api(stack.apiUrl, "POST", `/v1/templates/${name}/sms/id/preview`, { accountId: budi.id, version: 1 });
    expect(v1.body).toEqual({ source: "library", locale: "id", version: 1, text: "Halo Budi Balas STOP untuk berhenti." });

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
    expect(freshMessage!.body).toBe("Second version for Ravi Reply STOP to opt out.");

    const sentByRunning = await eventually(async () => {
      const sent = messagesTo(phone(first.accounts[0]!));
      return sent.length === 2 ? sent : undefined;
    }, "the running campaign's second SMS");
    // The second SMS went out after version 2 existed, and still reads version 1.
    expect(Date.parse(sentByRunning[1]!.createdAt)).toBeGreaterThan(Date.parse(edited.createdAt));
    expect(sentByRunning.map((m) => m.body)).toEqual(["First version for Asha Reply STOP to opt out.", "First version for Asha Reply STOP to opt out."]);
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

/** A contact step on SMS naming `template`, with fallback channels. */
const smsStep = (template: string, fallbacks: string[] = []) => ({ id: "first", kind: "contact", channel: "sms", template, fallbacks });
const missingReason = (channel: string, name: string, role: string) =>
  `no ${channel} template "${name}" (${role}) in any locale of the campaign's templates, the library or the shipped ones`;

describe("steps whose template cannot be sent", () => {
  it("are refused at creation and update, naming the step, when the template is found nowhere for its channel or a fallback's, or does not render", async () => {
    const { product } = await storeAccounts([accountFixture()]);
    const name = uniqueName();
    const create = (body: Record<string, unknown>) =>
      api(stack.apiUrl, "POST", "/v1/campaigns", { name: "Checked", segment: { products: [product] }, ...body });

    const nowhere = await create({ strategy: { steps: [smsStep(name, ["email"])] } });
    expect(nowhere.status).toBe(400);
    expect(nowhere.body.errors).toEqual([
      { field: "strategy.steps.0.template", reason: missingReason("sms", name, "its channel") },
      { field: "strategy.steps.0.template", reason: missingReason("email", name, "a fallback") },
    ]);

    // In the library for SMS only: the email fallback is what is missing, named in the variant it is in.
    await createTemplate({ name, channel: "sms", locale: "en", body: "Hi {{firstName}}" });
    const variants = await create({
      variants: [
        { name: "champion", weight: 1, strategy: { steps: [smsStep("reminder", ["email"])] } },
        { name: "challenger", weight: 1, strategy: { steps: [smsStep(name, ["email"])] } },
      ],
    });
    expect(variants.status).toBe(400);
    expect(variants.body.errors).toEqual([{ field: "variants.1.strategy.steps.0.template", reason: missingReason("email", name, "a fallback") }]);

    // The campaign's own email template completes it, once it uses only what rendering provides.
    const email = (text: string) => ({ name, channel: "email", locale: "en", body: `{{!-- subject --}}\nReminder\n{{!-- text --}}\n${text}` });
    const typo = await create({ strategy: { steps: [smsStep(name, ["email"])] }, templates: [email("Hi {{nmae}}")] });
    expect(typo.status).toBe(400);
    expect(typo.body.errors).toEqual([
      { field: "templates.0.body", reason: expect.stringMatching(/^unknown variable "nmae" at line 4, column 6 \(variables: /) },
    ]);
    const created = await create({ strategy: { steps: [smsStep(name, ["email"])] }, templates: [email("Hi {{firstName}}")] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);

    const other = uniqueName();
    const update = await api(stack.apiUrl, "PATCH", `/v1/campaigns/${created.body.id}`, { strategy: { steps: [smsStep(other)] } });
    expect(update.status).toBe(400);
    expect(update.body.errors).toEqual([{ field: "strategy.steps.0.template", reason: missingReason("sms", other, "its channel") }]);
  });

  it("are refused at launch (409 naming the step and the template) when stored before these checks, and the campaign stays a draft", async () => {
    const { product } = await storeAccounts([accountFixture()]);
    const name = uniqueName();
    await createTemplate({ name, channel: "sms", locale: "en", body: "Hi {{firstName}}" });
    const created = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "Pins a broken version",
      strategy: { steps: [smsStep(name)] },
      segment: { products: [product] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // A version stored before saving checked variables: the one a launch now would pin.
    await stack.db.template.create({ data: { name, channel: "sms", locale: "en", version: 2, body: "Hi {{nmae}}" } });
    const broken = await api(stack.apiUrl, "POST", `/v1/campaigns/${created.body.id}/launch`);
    expect(broken.status).toBe(409);
    expect(broken.body.errors).toEqual([
      {
        field: "variants.0.strategy.steps.0.template",
        reason: expect.stringMatching(
          new RegExp(`^library template ${name}/sms/en version 2 \\(sms: its channel\\) body unknown variable "nmae" at line 1, column 6`),
        ),
      },
    ]);
    expect((await api(stack.apiUrl, "GET", `/v1/campaigns/${created.body.id}`)).body).toMatchObject({ status: "draft", pinnedTemplates: [] });

    // A draft stored before creation checked templates: its step's template exists nowhere.
    const missing = uniqueName();
    const steps = [{ id: "first", kind: "contact", channel: "sms", template: missing, fallbacks: [], waitForOutcome: "P1D" }];
    const old = await stack.db.campaign.create({
      data: {
        name: "Old draft",
        strategy: { variants: [{ name: "champion", weight: 1, strategy: { version: 1, steps, promiseGraceDays: 2 } }] },
        segment: { products: [product] },
      },
    });
    const nowhere = await api(stack.apiUrl, "POST", `/v1/campaigns/${old.id}/launch`);
    expect(nowhere.status).toBe(409);
    expect(nowhere.body.errors).toEqual([{ field: "variants.0.strategy.steps.0.template", reason: missingReason("sms", missing, "its channel") }]);
  });

  it("fail that attempt for good at send time (no retry) when the debtor's locale has none, and the step falls back", async () => {
    const name = uniqueName();
    const address = `budi-${randomUUID().slice(0, 8)}@example.com`;
    const { product } = await storeAccounts([accountFixture({ email: address })]);
    // SMS only in Swahili, so the Indonesian debtor (id-ID, then id, then en) finds none at send time.
    const created = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "Falls back",
      strategy: { steps: [smsStep(name, ["email"])] },
      templates: [
        { name, channel: "sms", locale: "sw", body: "Habari {{firstName}}" },
        { name, channel: "email", locale: "id", body: "{{!-- subject --}}\nTagihan {{creditor}}\n{{!-- text --}}\nHalo {{firstName}}" },
      ],
      segment: { products: [product] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await api(stack.apiUrl, "POST", `/v1/campaigns/${created.body.id}/launch`)).status).toBe(202);

    const attempts = await eventually(async () => {
      const rows = await stack.db.contactAttempt.findMany({ where: { enrolment: { campaignId: created.body.id } }, orderBy: { createdAt: "asc" } });
      return rows.length === 2 && rows[1]!.vendorId ? rows : undefined;
    }, "the failed SMS attempt and the email fallback");
    expect(attempts.map((a) => [a.channel, a.status, a.errorCode])).toEqual([
      ["sms", "failed", "template-error"],
      ["email", expect.any(String), null],
    ]);
    const sent = stack.sandbox!.emails().filter((e) => e.recipients.some((r) => r.email === address));
    expect(sent.map((e) => e.subject)).toEqual(["Tagihan Tagih Demo Lender"]);
  });
});

describe("template locales", () => {
  it("are stored as BCP 47 writes them, and a version typed in another case serves the debtor's locale", async () => {
    const name = uniqueName();
    const first = await api(stack.apiUrl, "POST", "/v1/templates", { name, channel: "sms", locale: "id-id", body: "Satu {{firstName}}" });
    expect(first.body).toMatchObject({ locale: "id-ID", version: 1 });
    expect((await createTemplate({ name, channel: "sms", locale: "ID-ID", body: "Dua {{firstName}}" })).version).toBe(2);
    const { accounts } = await storeAccounts([accountFixture({ locale: "id-id" })]);
    const budi = accounts[0]!;
    // Accounts already store their locale canonically.
    expect(budi.locale).toBe("id-ID");
    const preview = await api(stack.apiUrl, "POST", "/v1/templates/preview", { accountId: budi.id, name, channel: "sms" });
    expect(preview.body).toEqual({ source: "library", locale: "id-ID", version: 2, text: "Dua Budi Balas STOP untuk berhenti." });
    expect((await api(stack.apiUrl, "GET", `/v1/templates/${name}/sms/id-id`)).body).toMatchObject({ locale: "id-ID", version: 2 });

    // A version stored as typed before canonicalisation is the same template, for preview, versions and listing.
    const legacy = uniqueName();
    await stack.db.template.create({ data: { name: legacy, channel: "sms", locale: "id-id", version: 1, body: "Lama {{firstName}}" } });
    const old = await api(stack.apiUrl, "POST", "/v1/templates/preview", { accountId: budi.id, name: legacy, channel: "sms" });
    expect(old.body).toMatchObject({ source: "library", version: 1, text: "Lama Budi Balas STOP untuk berhenti." });
    expect((await createTemplate({ name: legacy, channel: "sms", locale: "id-ID", body: "Baru {{firstName}}" })).version).toBe(2);
    const listed = await api(stack.apiUrl, "GET", `/v1/templates?name=${legacy}&locale=ID-ID`);
    expect(listed.body.items.map((t: { locale: string; version: number }) => [t.locale, t.version])).toEqual([["id-ID", 2]]);

    // A campaign's own templates too.
    const campaign = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "Own locale",
      strategy: { steps: [smsStep(name)] },
      templates: [{ name, channel: "sms", locale: "id-id", body: "Sendiri {{firstName}}" }],
      segment: { products: ["none"] },
    });
    expect(campaign.body.templates).toMatchObject([{ locale: "id-ID" }]);
  });
});

describe("preview gaps", () => {
  it("renders WhatsApp Content variables, naming one that does not render", async () => {
    const name = uniqueName();
    const contentSid = `HX${"ab12".repeat(8)}`;
    const approved = { name, channel: "whatsapp", locale: "id", body: "Halo {{firstName}}", contentSid };
    await createTemplate({ ...approved, contentVariables: { "1": "{{name}}", "2": "{{money amountDue currency}}" } });
    const budi = (await storeAccounts([accountFixture()])).accounts[0]!;
    const preview = await api(stack.apiUrl, "POST", "/v1/templates/preview", { accountId: budi.id, name, channel: "whatsapp" });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(preview.body).toMatchObject({
      text: "Halo Budi Balas STOP untuk berhenti.",
      contentSid,
      contentVariables: { "1": "Budi Santoso", "2": expect.stringMatching(/^Rp\s1\.500\.000$/) },
    });

    const typo = await api(stack.apiUrl, "POST", "/v1/templates", { ...approved, contentVariables: { "1": "{{nmae}}" } });
    expect(typo.status).toBe(400);
    expect(typo.body.errors).toEqual([{ field: "contentVariables.1", reason: expect.stringMatching(/^unknown variable "nmae" at line 1, column 3/) }]);
    // One stored before saving checked them is named by the preview, as the send would fail on it.
    await stack.db.template.create({ data: { ...approved, version: 2, contentVariables: { "1": "{{nmae}}" } } });
    const broken = await api(stack.apiUrl, "POST", `/v1/templates/${name}/whatsapp/id/preview`, { accountId: budi.id });
    expect(broken.status).toBe(400);
    expect(broken.body.errors).toEqual([{ field: "contentVariables.1", reason: 'unknown variable "nmae" at line 1, column 3' }]);
    expect(broken.body.detail).toContain(`${name}/whatsapp/id version 2`);
  });

  it("refuses an SMS over Twilio's 1,600 characters at saving and flags one that renders past them", async () => {
    const long = await api(stack.apiUrl, "POST", "/v1/templates", { name: uniqueName(), channel: "sms", locale: "id", body: "x".repeat(2000) });
    expect(long.status).toBe(400);
    expect(long.body.errors).toEqual([
      {
        field: "body",
        reason:
          "is 2027 characters without its variables with the opt-out instruction added at its end (27 of them; write STOP in the text to word it yourself); Twilio refuses an SMS over 1600 (error 21617)",
      },
    ]);
    // Before, the instruction added at send time was not counted: this one was saved, and every send of it failed.
    const nearly = await api(stack.apiUrl, "POST", "/v1/templates", { name: uniqueName(), channel: "sms", locale: "id", body: `${"x".repeat(1590)} {{name}}` });
    expect(nearly.status).toBe(400);
    expect(nearly.body.errors[0].reason).toMatch(/^is 1617 characters without its variables with the opt-out instruction/);

    const name = uniqueName();
    await createTemplate({ name, channel: "sms", locale: "id", body: `${"x".repeat(1570)} {{name}}` });
    const budi = (await storeAccounts([accountFixture()])).accounts[0]!;
    const preview = await api(stack.apiUrl, "POST", "/v1/templates/preview", { accountId: budi.id, name, channel: "sms" });
    expect(preview.status).toBe(200);
    // 1,583 characters and the opt-out instruction the template lacks.
    expect(preview.body.warnings).toEqual(["text is 1610 characters; Twilio refuses an SMS over 1600 (error 21617), so this account's send would fail"]);
    const short = await api(stack.apiUrl, "POST", "/v1/templates/preview", { accountId: budi.id, name: "reminder", channel: "sms" });
    expect(short.body.warnings).toBeUndefined();
  });

  it("names the date helper called without its date", async () => {
    const name = uniqueName();
    const reason = "the date helper takes one date, as in {{date dueDate}} (given 0) at line 1, column 5";
    const refused = await api(stack.apiUrl, "POST", "/v1/templates", { name, channel: "sms", locale: "id", body: "Due {{date}}" });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ field: "body", reason }]);
    await stack.db.template.create({ data: { name, channel: "sms", locale: "id", version: 1, body: "Due {{date}}" } });
    const budi = (await storeAccounts([accountFixture()])).accounts[0]!;
    const preview = await api(stack.apiUrl, "POST", `/v1/templates/${name}/sms/id/preview`, { accountId: budi.id });
    expect(preview.status).toBe(400);
    expect(preview.body.errors).toEqual([{ field: "body", reason }]);
  });
});
