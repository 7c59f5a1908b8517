import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { postgresConfig } from "../runtime/database-url.ts";
import { api, eventually, startTestStack } from "./stack.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const csv = { "content-type": "text/csv" };
const upload = (body: string, headers: Record<string, string> = csv, query = "") => api(stack.apiUrl, "POST", `/v1/accounts/import${query}`, body, { headers });
const tag = () => randomUUID().slice(0, 8);

async function account(externalId: string) {
  return stack.db.account.findUnique({ where: { externalId } });
}

/** A stream body the test feeds as it likes, like a slow or broken upload. */
function feed() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return {
    body,
    send: (text: string) => controller.enqueue(new TextEncoder().encode(text)),
    end: () => controller.close(),
    fail: () => controller.error(new Error("client went away")),
  };
}

describe("portfolio import", () => {
  it("reads a messy spreadsheet export: BOM, semicolons, CRLF, quoted separators and newlines, national phone formats; bad rows are listed and the rest kept", async () => {
    const t = tag();
    const lines = [
      "External_ID;Name;Phone;Country;Time Zone;Product;Currency;Balance;DPD days;days_past_due;Due Date;Notes",
      `ID-${t};"Santoso; Budi";0812-3456-7890;ID;Asia/Jakarta;credit-card;IDR;1500000.50;x;12;2026-12-25;"said ""call later""\nafter 5pm"`,
      `IN-${t};Asha Rao;98765 43210;IN;Asia/Kolkata;personal-loan;INR;25000;;40;;`,
      `KE-${t};Wanjiru Kamau;0712 345678;KE;Africa/Nairobi;mobile-loan;KES;1234.5;;3;;`,
      `BAD1-${t};No Phone Country;12345;ID;Asia/Jakarta;credit-card;IDR;100;;1;;`,
      `BAD2-${t};Too Precise;;GB;Europe/London;card;GBP;10.555;;-2;;`,
      `BAD3-${t};Grouped;;US;America/New_York;card;USD;"1,234.56";;5;;`,
    ];
    const body = "\uFEFF" + lines.join("\r\n") + "\r\n";
    const { status, body: summary } = await upload(body);
    expect(status).toBe(200);
    expect(summary).toMatchObject({
      status: "completed",
      format: "csv",
      mode: "valid-rows",
      rows: 6,
      imported: 3,
      updated: 0,
      rejectedCount: 3,
      charset: "utf-8",
    });
    expect(summary.ignoredColumns).toEqual(["DPD days", "Notes"]);
    // The header is row 1; the first account spans two lines but is row 2.
    expect(summary.rejected).toEqual(
      expect.arrayContaining([
        { row: 5, field: "phone", reason: "is not a valid phone number for ID" },
        { row: 6, field: "balance", reason: expect.stringContaining("GBP amounts have at most 2 decimal places") },
        { row: 6, field: "daysPastDue", reason: expect.any(String) },
        { row: 7, field: "balance", reason: expect.stringContaining("no thousands separators") },
      ]),
    );
    expect(await account(`ID-${t}`)).toMatchObject({
      name: "Santoso; Budi",
      phone: "+6281234567890",
      balanceMinor: 150000050n,
      daysPastDue: 12,
      jurisdiction: "ID",
    });
    expect(await account(`IN-${t}`)).toMatchObject({ phone: "+919876543210", balanceMinor: 2500000n, currency: "INR" });
    expect(await account(`KE-${t}`)).toMatchObject({ phone: "+254712345678", balanceMinor: 123450n });
    expect(await account(`BAD1-${t}`)).toBeNull();

    const { body: record } = await api(stack.apiUrl, "GET", `/v1/imports/${summary.id}`);
    expect(record).toMatchObject({ id: summary.id, status: "completed", imported: 3, rejectedCount: 3, bytesRead: Buffer.byteLength(body) });
  });

  it("reads a spreadsheet's Windows CSV (Windows-1252, no charset named) with its accented names", async () => {
    const t = tag();
    const text = `externalId,name,country,product,currency,balance,daysPastDue\nGB-${t},José Müller,GB,card,GBP,10,3\n`;
    const { status, body: summary } = await api(stack.apiUrl, "POST", "/v1/accounts/import", Buffer.from(text, "latin1"), { headers: csv });
    expect(status).toBe(200);
    expect(summary).toMatchObject({ status: "completed", imported: 1, rejectedCount: 0, charset: "windows-1252" });
    expect(await account(`GB-${t}`)).toMatchObject({ name: "José Müller" });
  });

  it("reads JSON lines, numbering rows by line", async () => {
    const t = tag();
    const body = [
      JSON.stringify({
        externalId: `J1-${t}`,
        name: "Tan Wei",
        phone: "9123 4567",
        jurisdiction: "SG",
        product: "card",
        currency: "SGD",
        balance: "99.90",
        daysPastDue: 7,
      }),
      "",
      "{not json",
      JSON.stringify({
        external_id: `J2-${t}`,
        name: "Sam Lee",
        phone: "(415) 555-2671",
        jurisdiction: "US",
        product: "auto",
        currency: "USD",
        balanceMinor: 5000,
        daysPastDue: 2,
        consent: { autodialedCalls: true },
      }),
      JSON.stringify({
        externalId: `J3-${t}`,
        name: "X",
        jurisdiction: "GB",
        product: "card",
        currency: "GBP",
        balanceMinor: 1,
        daysPastDue: 1,
        favouriteColour: "red",
      }),
      JSON.stringify({
        externalId: 12345,
        name: "Typed",
        email: "typed@",
        jurisdiction: "GB",
        product: "card",
        currency: "GBP",
        balanceMinor: 1,
        daysPastDue: 3.5,
        consent: { whatsapp: "yes" },
      }),
    ].join("\n");
    const { status, body: summary } = await upload(body, { "content-type": "application/x-ndjson" });
    expect(status).toBe(200);
    expect(summary).toMatchObject({ status: "completed", format: "jsonl", imported: 2, rejectedCount: 3 });
    expect(summary.rejected).toEqual([
      { row: 3, field: "(row)", reason: expect.stringContaining("not valid JSON") },
      { row: 5, field: "favouriteColour", reason: "is not an account field" },
      // Values of the wrong type are named so, not reported missing.
      { row: 6, field: "daysPastDue", reason: "must be a non-negative whole number of days" },
      { row: 6, field: "externalId", reason: "must be a string" },
      { row: 6, field: "email", reason: "must be an email address" },
      { row: 6, field: "consent.whatsapp", reason: "must be true or false" },
    ]);
    expect(await account(`J1-${t}`)).toMatchObject({ phone: "+6591234567", balanceMinor: 9990n });
    expect(await account(`J2-${t}`)).toMatchObject({ phone: "+14155552671", consentAutodialed: true });
  });

  it("updates accounts that exist (upsert by external id), and refuses a row repeating an external id of the same file, naming the row that holds it", async () => {
    const t = tag();
    const head = "externalId,name,jurisdiction,product,currency,balanceMinor,daysPastDue\n";
    expect((await upload(`${head}U-${t},Before,IN,card,INR,100,1\n`)).body).toMatchObject({ imported: 1, updated: 0 });
    const { body: summary } = await upload(`${head}U-${t},After,IN,card,INR,200,2\nV-${t},New,IN,card,INR,1,1\nV-${t},Newer,IN,card,INR,2,1\n`);
    expect(summary).toMatchObject({ status: "completed", rows: 3, imported: 1, updated: 1, rejectedCount: 1 });
    expect(summary.rejected).toEqual([{ row: 4, field: "externalId", reason: "is also at row 3: an account may appear once in a file" }]);
    expect(await account(`U-${t}`)).toMatchObject({ name: "After", balanceMinor: 200n, daysPastDue: 2 });
    expect(await account(`V-${t}`)).toMatchObject({ name: "New", balanceMinor: 1n });

    // The same file again is another import: its rows update what the first one wrote.
    const again = await upload(`${head}V-${t},Again,IN,card,INR,3,1\n`);
    expect(again.body).toMatchObject({ imported: 0, updated: 1, rejectedCount: 0 });
    // And the accounts API updates an imported account as any other.
    const put = await api(stack.apiUrl, "POST", "/v1/accounts", {
      accounts: [{ externalId: `V-${t}`, name: "Through the API", jurisdiction: "IN", product: "card", currency: "INR", balanceMinor: 4, daysPastDue: 1 }],
    });
    expect(put.status).toBeLessThan(300);
    expect(await account(`V-${t}`)).toMatchObject({ name: "Through the API", balanceMinor: 4n });
  });

  it("finds an external id repeated far apart in a large file, in either mode", async () => {
    const t = tag();
    const head = "externalId,name,jurisdiction,product,currency,balance,daysPastDue\n";
    const rows = Array.from({ length: 2400 }, (_, i) => `R-${t}-${i},Debtor ${i},IN,card,INR,10.00,1`);
    rows.push(`R-${t}-7,Someone else,IN,card,INR,99.00,1`); // row 2402 repeats row 9's id, batches later
    const file = `${head}${rows.join("\n")}\n`;
    const repeated = { row: 2402, field: "externalId", reason: "is also at row 9: an account may appear once in a file" };

    const kept = await upload(file);
    expect(kept.body).toMatchObject({ status: "completed", rows: 2401, imported: 2400, updated: 0, rejectedCount: 1 });
    expect(kept.body.rejected).toEqual([repeated]);
    expect(await account(`R-${t}-7`)).toMatchObject({ name: "Debtor 7", balanceMinor: 1000n });
    const listed = await api(stack.apiUrl, "GET", `/v1/imports/${kept.body.id}/rejections`);
    expect(listed.body.items).toEqual([repeated]);

    const strict = await upload(file.replaceAll(`R-${t}-`, `RA-${t}-`), csv, "?mode=all-or-nothing");
    expect(strict.body).toMatchObject({ status: "rolled-back", rows: 2401, imported: 0, rejectedCount: 1 });
    expect(strict.body.rejected).toEqual([repeated]);
    expect(await stack.db.account.count({ where: { externalId: { startsWith: `RA-${t}-` } } })).toBe(0);
  });

  // Before, a row repeating the external id of a rejected row was imported without a word:
  // fixing the rejected row and sending the file again then met a repeat, or stored two
  // debtors under one account number.
  it("refuses a row repeating the external id of a rejected row, in either mode, batches apart too", async () => {
    const t = tag();
    const head = "externalId,name,jurisdiction,product,currency,balance,daysPastDue\n";
    const filler = Array.from({ length: 1500 }, (_, i) => `F-${t}-${i},Debtor,IN,card,INR,1.00,1`);
    const file = [`RR-${t},Bad Balance,IN,card,INR,-1,1`, `RR-${t},Second,IN,card,INR,5.00,1`, ...filler, `RR-${t},Far,IN,card,INR,6.00,1`].join("\n");
    const expected = [
      { row: 2, field: "balance", reason: expect.any(String) },
      { row: 3, field: "externalId", reason: "is also at row 2: an account may appear once in a file" },
      { row: 1504, field: "externalId", reason: "is also at row 2: an account may appear once in a file" },
    ];
    const kept = await upload(`${head}${file}\n`);
    expect(kept.body).toMatchObject({ status: "completed", imported: 1500, rejectedCount: 3, rejected: expected });
    expect(await account(`RR-${t}`)).toBeNull();
    const strict = await upload(`${head}${file.replaceAll(`-${t}`, `-${t}a`)}\n`, csv, "?mode=all-or-nothing");
    expect(strict.body).toMatchObject({ status: "rolled-back", rejectedCount: 3, rejected: expected });
  });

  it("keeps the contact details and consent a refresh file leaves out, clears what an empty cell names, and the accounts API does likewise", async () => {
    const t = tag();
    const full =
      "externalId,name,phone,email,whatsapp,timeZone,locale,jurisdiction,product,currency,balance,daysPastDue,dueDate,consentWhatsapp,consentAutodialedCalls\n" +
      `K-${t},Budi,0812-3456-7890,budi@example.com,0812-3456-7891,Asia/Jakarta,id-ID,ID,card,IDR,1500,12,2026-12-25,yes,yes\n`;
    expect((await upload(full)).body).toMatchObject({ imported: 1 });
    const stored = { phone: "+6281234567890", email: "budi@example.com", whatsapp: "+6281234567891", timeZone: "Asia/Jakarta", locale: "id-ID" };
    const consent = { consentWhatsapp: true, consentAutodialed: true };

    // A balance refresh: only the required columns.
    const refresh = `externalId,name,country,product,currency,balance,daysPastDue\nK-${t},Budi,ID,card,IDR,1200,13\n`;
    expect((await upload(refresh)).body).toMatchObject({ imported: 0, updated: 1 });
    expect(await account(`K-${t}`)).toMatchObject({ ...stored, ...consent, balanceMinor: 120000n, daysPastDue: 13, dueDate: new Date("2026-12-25") });

    // A column the file has sets the field for every row: an empty cell clears it.
    await upload(`externalId,name,country,product,currency,balance,daysPastDue,email,consentWhatsapp\nK-${t},Budi,ID,card,IDR,1200,13,,no\n`);
    expect(await account(`K-${t}`)).toMatchObject({ ...stored, email: null, consentWhatsapp: false, consentAutodialed: true });

    // JSON lines name fields line by line.
    const jsonl = (o: object) => JSON.stringify({ name: "Budi", country: "ID", product: "card", currency: "IDR", balance: "1000", daysPastDue: 14, ...o });
    const lines = [jsonl({ externalId: `K-${t}` }), jsonl({ externalId: `L-${t}`, phone: "0812-3456-7892" })];
    expect((await upload(lines.join("\n"), { "content-type": "application/x-ndjson" })).body).toMatchObject({ status: "completed", imported: 1, updated: 1 });
    expect(await account(`K-${t}`)).toMatchObject({ ...stored, email: null, balanceMinor: 100000n, daysPastDue: 14 });
    await upload(jsonl({ externalId: `K-${t}`, locale: "en-ID" }), { "content-type": "application/x-ndjson" });
    expect(await account(`K-${t}`)).toMatchObject({ ...stored, email: null, locale: "en-ID", balanceMinor: 100000n, daysPastDue: 14 });
    expect(await account(`L-${t}`)).toMatchObject({ phone: "+6281234567892", locale: "en", consentWhatsapp: false });
    // A consent object sets only the consents it holds: the autodialled-call consent stays.
    await upload(jsonl({ externalId: `K-${t}`, consent: { whatsapp: true } }), { "content-type": "application/x-ndjson" });
    expect(await account(`K-${t}`)).toMatchObject({ consentWhatsapp: true, consentAutodialed: true });

    const base = { name: "Budi", jurisdiction: "ID", product: "card", currency: "IDR", balanceMinor: 1, daysPastDue: 1 };
    const { status } = await api(stack.apiUrl, "POST", "/v1/accounts", {
      accounts: [
        { ...base, externalId: `K-${t}` },
        { ...base, externalId: `L-${t}`, phone: "0812-3456-7893" },
      ],
    });
    expect(status).toBe(200);
    expect(await account(`K-${t}`)).toMatchObject({ phone: stored.phone, whatsapp: stored.whatsapp, locale: "en-ID", balanceMinor: 1n });
    expect(await account(`L-${t}`)).toMatchObject({ phone: "+6281234567893" });
  });

  it("finds an imported account by its external id, and reads it with its holds, opt-outs and promises", async () => {
    const t = tag();
    await upload(`externalId,name,phone,country,product,currency,balance,daysPastDue\nF-${t},Asha Rao,98765 43210,IN,loan,INR,250.5,40\n`);
    const found = await api(stack.apiUrl, "GET", `/v1/accounts?externalId=F-${t}`);
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ items: [{ externalId: `F-${t}`, phone: "+919876543210", balanceMinor: "25050", currency: "INR" }], nextCursor: null });
    const id = found.body.items[0].id as string;
    await api(stack.apiUrl, "POST", `/v1/accounts/${id}/holds`, { kind: "dispute", note: "says paid" });
    await api(stack.apiUrl, "POST", `/v1/accounts/${id}/opt-outs`, { channel: "sms" });
    const dueDate = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    await api(stack.apiUrl, "POST", `/v1/accounts/${id}/promises`, { amountMinor: 10000, dueDate });
    const read = await api(stack.apiUrl, "GET", `/v1/accounts/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      id,
      name: "Asha Rao",
      holds: [{ kind: "dispute", note: "says paid" }],
      optOuts: [{ channel: "sms", source: "ops" }],
      promises: [{ amountMinor: "10000", currency: "INR", dueDate, status: "open" }],
      journeys: [],
      attempts: [],
    });
    expect((await api(stack.apiUrl, "GET", `/v1/accounts?externalId=nobody-${t}`)).body).toEqual({ items: [], nextCursor: null });
    expect((await api(stack.apiUrl, "GET", `/v1/accounts/${randomUUID()}`)).status).toBe(404);

    // Every account, page by page, each once.
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const pageOf = await api(stack.apiUrl, "GET", `/v1/accounts?limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      for (const a of pageOf.body.items) {
        expect(seen.has(a.id)).toBe(false);
        seen.add(a.id);
      }
      cursor = pageOf.body.nextCursor;
    } while (cursor);
    expect(seen.size).toBe(await stack.db.account.count());
  });

  it("all-or-nothing writes nothing when any row is rejected, and keeps every rejection readable page by page", async () => {
    const t = tag();
    const head = "externalId,name,jurisdiction,product,currency,balance,daysPastDue\n";
    const good = Array.from({ length: 2500 }, (_, i) => `A-${t}-${i},Good,IN,card,INR,10.00,1`).join("\n");
    const body = `${head}${good}\nA-${t}-bad,Bad,XX,card,INR,10,1\nA-${t}-bad2,Bad,IN,card,INR,10,-1\n`;
    const { status, body: summary } = await upload(body, csv, "?mode=all-or-nothing");
    expect(status).toBe(200);
    expect(summary).toMatchObject({ status: "rolled-back", mode: "all-or-nothing", rows: 2502, imported: 0, updated: 0, rejectedCount: 2 });
    expect(await stack.db.account.count({ where: { externalId: { startsWith: `A-${t}-` } } })).toBe(0);

    const first = await api(stack.apiUrl, "GET", `/v1/imports/${summary.id}/rejections?limit=1`);
    expect(first.body.items).toEqual([{ row: 2502, field: "jurisdiction", reason: expect.any(String) }]);
    const second = await api(stack.apiUrl, "GET", `/v1/imports/${summary.id}/rejections?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body).toEqual({ items: [{ row: 2503, field: "daysPastDue", reason: expect.any(String) }], nextCursor: null });

    const clean = await upload(`${head}${good}\n`, csv, "?mode=all-or-nothing");
    expect(clean.body).toMatchObject({ status: "completed", imported: 2500 });
    expect(await stack.db.account.count({ where: { externalId: { startsWith: `A-${t}-` } } })).toBe(2500);
  });

  it("all-or-nothing lists a repeated external id after the first bad row too, as valid-rows does", async () => {
    const t = tag();
    const head = "externalId,name,phone,jurisdiction,product,currency,balance,daysPastDue\n";
    const file = (prefix: string) =>
      head +
      `${prefix}-${t}-1,Early,,IN,card,INR,10,1\n` + // row 2: valid, before the bad row
      `${prefix}-${t}-2,Bad phone,12,IN,card,INR,10,1\n` + // row 3
      `${prefix}-${t}-3,First,,IN,card,INR,10,1\n` + // row 4
      `${prefix}-${t}-3,Second,,IN,card,INR,10,1\n` + // row 5 repeats row 4
      `${prefix}-${t}-1,Again,,IN,card,INR,10,1\n`; // row 6 repeats row 2
    const repeats = [
      { row: 5, field: "externalId", reason: "is also at row 4: an account may appear once in a file" },
      { row: 6, field: "externalId", reason: "is also at row 2: an account may appear once in a file" },
    ];

    const kept = await upload(file("DK"));
    expect(kept.body).toMatchObject({ status: "completed", rows: 5, rejectedCount: 3 });
    expect(kept.body.rejected).toEqual([{ row: 3, field: "phone", reason: expect.any(String) }, ...repeats]);

    const strict = await upload(file("DA"), csv, "?mode=all-or-nothing");
    expect(strict.body).toMatchObject({ status: "rolled-back", rows: 5, imported: 0, updated: 0, rejectedCount: 3 });
    expect(strict.body.rejected).toEqual([{ row: 3, field: "phone", reason: expect.any(String) }, ...repeats]);
    const listed = await api(stack.apiUrl, "GET", `/v1/imports/${strict.body.id}/rejections`);
    expect(listed.body.items).toEqual(strict.body.rejected);
    expect(await stack.db.account.count({ where: { externalId: { startsWith: `DA-${t}-` } } })).toBe(0);
    expect(await stack.db.$queryRaw<unknown[]>`SELECT 1 FROM import_staging WHERE import_id = ${strict.body.id as string}::uuid`).toEqual([]);
  });

  it("all-or-nothing holds no account while its upload runs: a payment goes through at once, and the file's changes land together at the end", async () => {
    const t = tag();
    const head = "externalId,name,jurisdiction,product,currency,balance,daysPastDue\n";
    expect((await upload(`${head}H-${t}-0,Before,KE,loan,KES,50,1\n`)).body).toMatchObject({ imported: 1 });
    const held = (await account(`H-${t}-0`))!;
    const slow = feed();
    const answer = fetch(`${stack.apiUrl}/v1/accounts/import?mode=all-or-nothing`, {
      method: "POST",
      headers: { ...csv, authorization: `Bearer ${stack.adminKey}` },
      body: slow.body,
      duplex: "half",
    } as RequestInit);
    slow.send(head);
    slow.send(Array.from({ length: 2500 }, (_, i) => `H-${t}-${i},After,KE,loan,KES,40,2\n`).join(""));
    await eventually(async () => {
      const { body } = await api(stack.apiUrl, "GET", "/v1/imports?limit=5");
      return body.items.find((i: { status: string; mode: string; rows: number }) => i.status === "running" && i.mode === "all-or-nothing" && i.rows >= 2000);
    }, "a running all-or-nothing import past its first batches");
    // The account the file changes is free: a payment is applied now, not refused as busy.
    const paid = await api(stack.apiUrl, "POST", `/v1/accounts/${held.id}/payments`, { reference: `H-${t}`, amountMinor: "100", currency: "KES" });
    expect(paid.status).toBe(200);
    expect(await account(`H-${t}-0`)).toMatchObject({ name: "Before" });
    expect(await stack.db.account.count({ where: { externalId: { startsWith: `H-${t}-` } } })).toBe(1);
    slow.end();
    const summary = (await (await answer).json()) as Record<string, unknown>;
    expect(summary).toMatchObject({ status: "completed", rows: 2500, imported: 2499, updated: 1, rejectedCount: 0 });
    expect(await account(`H-${t}-0`)).toMatchObject({ name: "After", balanceMinor: 4000n, daysPastDue: 2 });
    expect(await stack.db.$queryRaw<unknown[]>`SELECT 1 FROM import_staging WHERE import_id = ${summary.id as string}::uuid`).toEqual([]);
  });

  it("marks failed an import a stopped process left running, once no upload could still be going, dropping its staged rows", async () => {
    const { failInterruptedImports } = await import("../store/account-import.ts");
    const started = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000);
    const orphan = await stack.db.import.create({ data: { format: "csv", mode: "all-or-nothing", startedAt: started(2) } });
    const live = await stack.db.import.create({ data: { format: "csv", mode: "valid-rows", startedAt: started(0.5) } });
    await stack.db.$executeRaw`INSERT INTO import_staging (import_id, external_id, "row", named, account) VALUES (${orphan.id}::uuid, 'X-1', 2, '', '{}')`;
    expect(await failInterruptedImports(stack.db)).toBeGreaterThanOrEqual(1);
    const shown = await api(stack.apiUrl, "GET", `/v1/imports/${orphan.id}`);
    expect(shown.body).toMatchObject({ status: "failed", error: expect.stringContaining("interrupted") });
    expect(await stack.db.$queryRaw<unknown[]>`SELECT 1 FROM import_staging WHERE import_id = ${orphan.id}::uuid`).toEqual([]);
    expect((await stack.db.import.findUniqueOrThrow({ where: { id: live.id } })).status).toBe("running");
    await stack.db.import.update({ where: { id: live.id }, data: { status: "failed" } });
  });

  it("runs all-or-nothing imports side by side, each in its own transaction", async () => {
    const t = tag();
    const head = "externalId,name,jurisdiction,product,currency,balance,daysPastDue\n";
    const file = (prefix: string, bad: string) =>
      `${head}${Array.from({ length: 2500 }, (_, i) => `${prefix}-${t}-${i},Good,IN,card,INR,10.00,1`).join("\n")}\n${bad}`;
    const [kept, rolledBack, third] = await Promise.all([
      upload(file("S1", ""), csv, "?mode=all-or-nothing"),
      upload(file("S2", `S2-${t}-bad,Bad,IN,card,INR,10,-1\n`), csv, "?mode=all-or-nothing"),
      upload(file("S3", ""), csv, "?mode=all-or-nothing"),
    ]);
    expect(kept.body).toMatchObject({ status: "completed", imported: 2500 });
    expect(rolledBack.body).toMatchObject({ status: "rolled-back", rows: 2501, rejectedCount: 1 });
    expect(third.body).toMatchObject({ status: "completed", imported: 2500 });
    expect(await stack.db.account.count({ where: { externalId: { startsWith: `S2-${t}-` } } })).toBe(0);
  });

  it("shows progress while the upload runs, and a broken upload fails keeping what committed", async () => {
    const t = tag();
    const upload = feed();
    const answer = fetch(`${stack.apiUrl}/v1/accounts/import`, {
      method: "POST",
      headers: { ...csv, authorization: `Bearer ${stack.adminKey}` },
      body: upload.body,
      duplex: "half",
    } as RequestInit);
    upload.send("externalId,name,jurisdiction,product,currency,balance,daysPastDue\n");
    upload.send(Array.from({ length: 3000 }, (_, i) => `P-${t}-${i},Name,KE,loan,KES,5,1\n`).join(""));
    const running = await eventually(async () => {
      const { body } = await api(stack.apiUrl, "GET", "/v1/imports?limit=5");
      const mine = body.items.find((i: { status: string; rows: number }) => i.status === "running" && i.rows >= 2000);
      return mine as { id: string; rows: number; bytesRead: number } | undefined;
    }, "a running import with committed rows");
    expect(running.bytesRead).toBeGreaterThan(0);
    upload.send(`P-${t}-last,Name,KE,loan,KES,5`); // no line end: the row is cut short
    upload.fail();
    await answer.then(
      (r) => r.text(),
      () => undefined,
    );
    const failed = await eventually(async () => {
      const { body } = await api(stack.apiUrl, "GET", `/v1/imports/${running.id}`);
      return body.status === "failed" ? body : undefined;
    }, "the import marked failed");
    expect(failed.imported).toBe(await stack.db.account.count({ where: { externalId: { startsWith: `P-${t}-` } } }));
    expect(failed.imported).toBeGreaterThanOrEqual(2000);
    expect(failed.error).toBeTruthy();
  });

  it("keeps every row before the one that breaks the file, and says how many", async () => {
    const t = tag();
    const rows = Array.from({ length: 1200 }, (_, i) => `B-${t}-${i},Name,KE,loan,KES,5,${i === 9 ? -1 : 1}`);
    const file = [
      "externalId,name,jurisdiction,product,currency,balance,daysPastDue",
      ...rows,
      `B-${t}-x,"Name never closed,KE,loan,KES,5,1`,
      `B-${t}-y,Name,KE,loan,KES,5,1`,
    ].join("\n");
    const { status, body } = await upload(file);
    expect(status).toBe(400);
    expect(body.detail).toContain("row 1202");
    expect(body.detail).toContain("the 1200 rows before it were read: 1199 kept, 1 rejected");
    expect(await stack.db.account.count({ where: { externalId: { startsWith: `B-${t}-` } } })).toBe(1199);

    // All-or-nothing keeps nothing, and its record counts the rows valid-rows does (before, 1000 of 1200).
    const strict = await upload(file.replaceAll(`B-${t}-`, `BA-${t}-`), csv, "?mode=all-or-nothing");
    expect(strict.status).toBe(400);
    expect(strict.body.detail).toContain("nothing was kept");
    const id = /import ([0-9a-f-]{36}) failed/.exec(strict.body.detail)![1];
    expect((await api(stack.apiUrl, "GET", `/v1/imports/${id}`)).body).toMatchObject({
      status: "failed",
      rows: 1200,
      imported: 0,
      updated: 0,
      rejectedCount: 1,
    });
    expect(await stack.db.account.count({ where: { externalId: { startsWith: `BA-${t}-` } } })).toBe(0);
  });

  // The parser reads a small file to its end, and meets the broken quote there, while the
  // import's record is being written: the rows before it were dropped with the error.
  it("keeps the rows before a quote that never closes in a small file, naming the line it opens on", async () => {
    const t = tag();
    const file = [
      "sep=;",
      "externalId;name;jurisdiction;product;currency;balance;daysPastDue",
      `S-${t}-1;One;ID;card;IDR;100;1`,
      `S-${t}-2;Two;ID;card;IDR;100;1;;extra`,
      `S-${t}-3;Three;ID;card;IDR;100;1`,
      `S-${t}-4;"Unclosed;ID;card;IDR;100;1`,
      `S-${t}-5;After;ID;card;IDR;100;1`,
      "",
    ].join("\r\n");
    const { status, body } = await upload(file);
    expect(status).toBe(400);
    expect(body.detail).toMatch(/^row 5 \(line 6\): a quote in it never closes/);
    expect(body.detail).toContain("the 3 rows before it were read: 2 kept, 1 rejected");
    const stored = await stack.db.account.findMany({ where: { externalId: { startsWith: `S-${t}-` } }, orderBy: { externalId: "asc" } });
    expect(stored.map((a) => a.externalId)).toEqual([`S-${t}-1`, `S-${t}-3`]);
    const id = /import ([0-9a-f-]{36}) failed/.exec(body.detail)![1];
    const { body: record } = await api(stack.apiUrl, "GET", `/v1/imports/${id}`);
    expect(record).toMatchObject({ status: "failed", rows: 3, imported: 2, rejectedCount: 1, error: expect.stringContaining("row 5 (line 6)") });
  });

  it("replays a retried import under the same Idempotency-Key, refuses the key with another file, and audits the import", async () => {
    const t = tag();
    const file = `externalId,name,jurisdiction,product,currency,balance,daysPastDue\nI-${t},Name,KE,loan,KES,5,1\n`;
    const key = `import-${t}`;
    const first = await upload(file, { ...csv, "idempotency-key": key });
    expect(first.status).toBe(200);
    const again = await upload(file, { ...csv, "idempotency-key": key });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    expect(await stack.db.import.count({ where: { id: first.body.id } })).toBe(1);
    const other = await upload(file.replace("5,1", "6,1"), { ...csv, "idempotency-key": key });
    expect(other.status).toBe(422);
    expect(other.body.errors[0].field).toBe("header.Idempotency-Key");
    expect((await account(`I-${t}`))?.balanceMinor).toBe(500n);

    const audit = await api(stack.apiUrl, "GET", "/v1/audit?action=accounts.import&limit=500");
    const entry = audit.body.items.find((e: { target: { id: string } }) => e.target.id === first.body.id);
    expect(entry).toMatchObject({
      actor: (await stack.db.import.findUniqueOrThrow({ where: { id: first.body.id } })).actor,
      detail: { imported: 1, mode: "valid-rows" },
    });
    expect(entry.actor).toMatch(/^[0-9a-f-]{36}$/);
  });

  const header = "externalId,name,jurisdiction,product,currency,balance,daysPastDue";

  it.each([
    ["a missing column", csv, "externalId,name,product,currency,daysPastDue\nM-1,X,card,INR,1\n", 400],
    ["an empty file", csv, "", 400],
    ["a header without rows", csv, `${header}\n`, 400],
    ["an unknown charset", { "content-type": "text/csv; charset=klingon" }, `${header}\nK-1,Name,KE,loan,KES,5,1\n`, 415],
  ])("frees the Idempotency-Key of an import refused before any row is read (%s), so a retry runs again", async (_, headers, file, status) => {
    const key = `refused-${tag()}`;
    const first = await upload(file, { ...headers, "idempotency-key": key });
    expect(first.status).toBe(status);
    const again = await upload(file, { ...headers, "idempotency-key": key });
    expect(again.status).toBe(status);
    expect(again.body.detail).toBe(first.body.detail);
    const t = tag();
    const fixed = await upload(`${header}\nR-${t},Name,KE,loan,KES,5,1\n`, { ...csv, "idempotency-key": key });
    expect(fixed.status).toBe(200);
    expect(fixed.headers.get("idempotent-replayed")).toBeNull();
    expect(await account(`R-${t}`)).not.toBeNull();
  });

  it("refuses an import's Idempotency-Key with the same file in another mode or charset (422): they are other requests", async () => {
    const t = tag();
    const file = `${header}\nV-${t},Name,KE,loan,KES,5,1\n`;
    const key = `variant-${t}`;
    const first = await upload(file, { ...csv, "idempotency-key": key });
    expect(first.status).toBe(200);
    for (const [headers, query] of [
      [csv, "?mode=all-or-nothing"],
      [{ "content-type": "text/csv; charset=utf-16le" }, ""],
    ] as const) {
      const other = await upload(file, { ...headers, "idempotency-key": key }, query);
      expect(other.status).toBe(422);
      expect(other.headers.get("idempotent-replayed")).toBeNull();
      expect(other.body.errors[0].field).toBe("header.Idempotency-Key");
    }
    const again = await upload(file, { ...csv, "idempotency-key": key });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
  });

  it("refuses what is not an import file before writing anything", async () => {
    const before = await stack.db.import.count();
    const wrongType = await upload("externalId\n", { "content-type": "application/json" });
    expect(wrongType.status).toBe(415);
    expect(wrongType.contentType).toBe("application/problem+json");
    expect(wrongType.body.errors).toEqual([{ field: "content-type", reason: expect.stringContaining("text/csv") }]);

    const empty = await upload("");
    expect(empty.status).toBe(400);
    const headerOnly = await upload("externalId,name,jurisdiction,product,currency,balance,daysPastDue\r\n");
    expect(headerOnly.status).toBe(400);
    expect(headerOnly.body.detail).toContain("no account rows");

    const missing = await upload(`externalId,name,product,currency,daysPastDue\nM-${tag()},X,card,INR,1\n`);
    expect(missing.status).toBe(400);
    expect(missing.contentType).toBe("application/problem+json");
    expect(missing.body.errors.map((e: { field: string }) => e.field)).toEqual(["columns.jurisdiction or country", "columns.balance or balanceMinor"]);
    expect(await stack.db.import.count()).toBe(before);

    const badQuote = await upload(`externalId,name,jurisdiction,product,currency,balance,daysPastDue\nQ-${tag()},"unclosed,IN,card,INR,1,1\n`);
    expect(badQuote.status).toBe(400);
    expect(badQuote.body.title).toBe("Malformed CSV");
  });
});

// Before, a file could switch an account with payments to another currency: its balance and
// payments then mixed two currencies, and a payment refused for its currency got applied.
describe("an account's currency", () => {
  it("is kept once the account has payments, promises or journeys: the row is refused naming currency; an account without them may still be corrected", async () => {
    const t = tag();
    const header = "externalId,name,jurisdiction,product,currency,balance,daysPastDue";
    const created = await upload([header, `PAID-${t},Budi,US,card,USD,500.00,10`, `TYPO-${t},Ani,ID,card,USD,1500000,10`].join("\n"));
    expect(created.body).toMatchObject({ imported: 2 });
    const paid = (await account(`PAID-${t}`))!;
    expect((await api(stack.apiUrl, "POST", `/v1/accounts/${paid.id}/payments`, { reference: `P-${t}`, amountMinor: "10000", currency: "USD" })).status).toBe(
      200,
    );

    const reason =
      "is USD for this account, which has payments, promises or journeys in it: an account keeps its currency (a debt in another currency is another account, with an external id of its own)";
    const changed = [header, `PAID-${t},Budi,ID,card,IDR,500,10`, `TYPO-${t},Ani,ID,card,IDR,1500000,10`].join("\n");
    const rolledBack = await upload(changed, csv, "?mode=all-or-nothing");
    expect(rolledBack.body).toMatchObject({ status: "rolled-back", rejected: [{ row: 2, field: "currency", reason }] });
    const answer = await upload(changed);
    expect(answer.body).toMatchObject({ status: "completed", rows: 2, updated: 1, rejectedCount: 1, rejected: [{ row: 2, field: "currency", reason }] });
    expect(await account(`PAID-${t}`)).toMatchObject({ currency: "USD", jurisdiction: "US", balanceMinor: 40000n });
    expect(await account(`TYPO-${t}`)).toMatchObject({ currency: "IDR", balanceMinor: 150000000n });

    const direct = await api(stack.apiUrl, "POST", "/v1/accounts", {
      accounts: [{ externalId: `PAID-${t}`, name: "Budi", jurisdiction: "ID", product: "card", currency: "IDR", balanceMinor: "500", daysPastDue: 10 }],
    });
    expect(direct.status).toBe(422);
    expect(direct.body.errors).toEqual([{ field: "accounts.0.currency", reason }]);
    expect(await account(`PAID-${t}`)).toMatchObject({ currency: "USD" });
  });
});

// Before, two imports of overlapping accounts at once deadlocked in PostgreSQL: one failed
// half-written and was answered 400 "the upload broke off".
describe("two imports of the same accounts at once", () => {
  it("both complete, each account updated once by each, with the values of one of the files", async () => {
    const t = tag();
    const ids = Array.from({ length: 4000 }, (_, i) => `DL-${t}-${String(i).padStart(4, "0")}`);
    const file = (order: string[], balance: string) =>
      ["externalId,name,phone,jurisdiction,product,currency,balance,daysPastDue", ...order.map((id) => `${id},Budi,,ID,card,IDR,${balance},5`)].join("\n");
    // Each file in its own order, so every batch of one shares accounts with every batch of the other.
    const shuffled = () =>
      ids
        .map((id) => [Math.random(), id] as const)
        .sort((a, b) => a[0] - b[0])
        .map(([, id]) => id);
    expect((await upload(file(ids, "500"))).body).toMatchObject({ status: "completed", imported: 4000 });
    const answers = await Promise.all([upload(file(shuffled(), "1000")), upload(file(shuffled(), "2000"))]);
    for (const answer of answers)
      expect(answer, JSON.stringify(answer.body)).toMatchObject({ status: 200, body: { status: "completed", rows: 4000, rejectedCount: 0 } });
    expect(answers.map((a) => a.body.updated)).toEqual([4000, 4000]);
    const stored = await stack.db.account.findMany({ where: { externalId: { startsWith: `DL-${t}-` } }, select: { balanceMinor: true } });
    expect(stored).toHaveLength(4000);
    for (const { balanceMinor } of stored) expect([100000n, 200000n]).toContain(balanceMinor);
  });
});

describe("when PostgreSQL ends the product's idle connections (a restart, an administrator)", () => {
  it("keeps running and answers the next import on new connections", async () => {
    const applicationName = `tagih-idle-${tag()}`;
    const own = await startTestStack({ DATABASE_URL: `${inject("databaseUrl")}?application_name=${applicationName}` });
    const admin = new pg.Client(postgresConfig(inject("databaseUrl")));
    await admin.connect();
    try {
      const row = (id: string) => `externalId,name,jurisdiction,product,currency,balance,daysPastDue\n${id},Idle Test,IN,card,INR,100.00,30\n`;
      const before = await api(own.apiUrl, "POST", "/v1/accounts/import", row(`IDLE-${tag()}`), { headers: csv });
      expect(before.status).toBe(200);
      expect(before.body.imported).toBe(1);

      const ended = await admin.query<{ pid: number }>(`SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [
        applicationName,
      ]);
      const pids = ended.rows.map((r) => r.pid);
      expect(pids.length).toBeGreaterThan(1); // the API's pool and the import's
      const alive = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1)`;
      await eventually(async () => ((await admin.query(alive, [pids])).rows[0].n === 0 ? true : undefined), "the sessions to end");

      const after = await api(own.apiUrl, "POST", "/v1/accounts/import", row(`IDLE-${tag()}`), { headers: csv });
      expect(after.status).toBe(200);
      expect(after.body.imported).toBe(1);
      expect((await api(own.apiUrl, "GET", `/v1/imports/${after.body.id}`)).body.status).toBe("completed");
    } finally {
      await admin.end();
      await own.stop();
    }
  });
});
