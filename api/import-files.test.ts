import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { accountFromRow } from "../domain/account-input.ts";
import { csvDelimiterOf, importTypeOf, openImportFile, type FileRow } from "./import-files.ts";
import { ProblemError } from "./problem.ts";

/** The bytes as an upload in chunks of `size`, to cross chunk boundaries anywhere. */
function upload(bytes: Uint8Array, size = 7): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) chunks.push(Buffer.from(bytes.subarray(offset, offset + size)));
  return Readable.from(chunks);
}

/** The rows of an upload; `charset` as Content-Type names it (none by default). */
async function rowsOf(text: string | Uint8Array, format: "csv" | "jsonl" = "csv", charset?: string, chunk?: number): Promise<FileRow[]> {
  const file = await openImportFile(upload(typeof text === "string" ? new TextEncoder().encode(text) : text, chunk), format, charset);
  const rows: FileRow[] = [];
  for await (const row of file.rows) rows.push(row);
  return rows;
}

const header = "externalId,name,jurisdiction,product,currency,balance,daysPastDue";

describe("import files", () => {
  it.each([
    [header, ","],
    ["externalId;name;jurisdiction;product;currency;balance;daysPastDue", ";"],
    ['"id;x",name,other', ","],
    ['"a,b";c;d', ";"],
    [header.replaceAll(",", "\t"), "\t"],
    ['"a,b,c"\tb\tc', "\t"],
    ["a;b\tc;d", ";"],
  ])("tells the separator of %s: %s", (line, delimiter) => {
    expect(csvDelimiterOf(line)).toBe(delimiter);
  });

  it.each([
    ["text/csv", { format: "csv", charset: undefined }],
    ["text/csv; charset=windows-1252", { format: "csv", charset: "windows-1252" }],
    ['text/csv; charset="UTF-8"', { format: "csv", charset: "UTF-8" }],
    ["application/x-ndjson", { format: "jsonl", charset: undefined }],
    ["application/jsonl", { format: "jsonl", charset: undefined }],
    ["application/json", undefined],
    [undefined, undefined],
  ])("reads content type %s as %o", (type, expected) => {
    expect(importTypeOf(type)).toEqual(expected);
  });

  it("reads a semicolon file with a BOM, CRLF and quoted separators, quotes and newlines, numbering rows as a spreadsheet does", async () => {
    // A quoted line break does not start a row; the blank line below it is a row of its own.
    const text =
      '\uFEFFExternal ID;Name;Jurisdiction;Product;Currency;Balance;DPD\r\nA-1;"Rao; Asha ""AR""\r\nSr.";IN;card;INR;10;1\r\n\r\nA-2;Budi;ID;card;IDR;5;2\r\n';
    const rows = await rowsOf(text.replace("DPD", "days_past_due"));
    expect(rows).toEqual([
      {
        row: 2,
        values: { externalId: "A-1", name: 'Rao; Asha "AR"\r\nSr.', jurisdiction: "IN", product: "card", currency: "INR", balance: "10", daysPastDue: "1" },
        problems: [],
      },
      { row: 4, values: expect.objectContaining({ externalId: "A-2" }), problems: [] },
    ]);
  });

  // Rows keep the numbers a spreadsheet shows: skipped lines (blank ones, a separator hint,
  // separators only) count.
  it.each([
    ["blank lines above the header", `\r\n \r\n${header}\r\nA-1,Budi,ID,card,IDR,1,1\r\nA-2,Asha,IN,card,INR,2,3\r\n`, [4, 5]],
    // Excel hides the hint: the header is its row 1
    ["Excel's separator hint above the header", `sep=;\n${header.replaceAll(",", ";")}\nA-1;Budi;ID;card;IDR;1;1\nA-2;Asha;IN;card;INR;2;3\n`, [2, 3]],
    ["a BOM and the hint", `\uFEFFsep=|\n${header.replaceAll(",", "|")}\nA-1|Budi|ID|card|IDR|1|1\nA-2|Asha|IN|card|INR|2|3\n`, [2, 3]],
    ["blank lines around the hint", `\n\nsep=;\n\n${header.replaceAll(",", ";")}\nA-1;Budi;ID;card;IDR;1;1\n\nA-2;Asha;IN;card;INR;2;3\n`, [5, 7]],
    ["classic Mac line breaks (CR only)", `${header}\rA-1,Budi,ID,card,IDR,1,1\rA-2,Asha,IN,card,INR,2,3\r`, [2, 3]],
    ["rows of separators only, as spreadsheets leave them", `${header}\nA-1,Budi,ID,card,IDR,1,1\n,,,,,,\nA-2,Asha,IN,card,INR,2,3\n,,,,,,\n,,,,,,\n`, [2, 4]],
    ["blank and separator-only lines between rows", `${header}\nA-1,Budi,ID,card,IDR,1,1\n\n  \n"",""\n, ,\nA-2,Asha,IN,card,INR,2,3`, [2, 7]],
  ])("reads a file with %s, numbering rows as a spreadsheet does", async (_what, text, numbers) => {
    const rows = await rowsOf(text);
    expect(rows.map((r) => [r.row, r.values.externalId, r.values.name, r.problems])).toEqual([
      [numbers[0], "A-1", "Budi", []],
      [numbers[1], "A-2", "Asha", []],
    ]);
  });

  it.each([1, 2, 7])("reads line breaks mixed in one file (CRLF, LF and CR), across chunks of %i bytes", async (chunk) => {
    const account = (i: number) => `A-${i},Row ${i},ID,card,IDR,100,${i}`;
    const mixed = `${header}\r\n${account(1)}\n${account(2)}\r${account(3)}\r\n${account(4)}\n${account(5)}\r${account(6)}`;
    const quoted = `${header}\n${account(1)}\r\nA-2,"Row\r2",ID,card,IDR,100,2\r${account(3)}\n`;
    const hinted = `\r\nsep=;\r${header.replaceAll(",", ";")}\n${account(1).replaceAll(",", ";")}\r\n\r${account(2).replaceAll(",", ";")}\r\n`;
    expect((await rowsOf(mixed, "csv", undefined, chunk)).map((r) => [r.row, r.values.externalId, r.values.daysPastDue, r.problems])).toEqual(
      [1, 2, 3, 4, 5, 6].map((i) => [i + 1, `A-${i}`, String(i), []]),
    );
    expect((await rowsOf(quoted, "csv", undefined, chunk)).map((r) => [r.row, r.values.name, r.values.daysPastDue, r.problems])).toEqual([
      [2, "Row 1", "1", []],
      [3, "Row\r2", "2", []],
      [4, "Row 3", "3", []],
    ]);
    expect((await rowsOf(hinted, "csv", undefined, chunk)).map((r) => [r.row, r.values.externalId, r.values.daysPastDue, r.problems])).toEqual([
      [3, "A-1", "1", []],
      [5, "A-2", "2", []],
    ]);
  });

  it("refuses a JSON line giving one field under two spellings, rather than keeping either silently", async () => {
    const rows = await rowsOf(`${JSON.stringify({ externalId: "A", external_id: "B", Balance: "1", balance: "2" })}\n`, "jsonl");
    expect(rows[0]!.problems).toEqual([
      { field: "externalId", reason: "is given twice, as externalId and external_id" },
      { field: "balance", reason: "is given twice, as Balance and balance" },
    ]);
  });

  // Before, only LF ended a line for the 1 MiB guard: a file of CR line breaks was one long row.
  it.each([
    ["CR", "\r"],
    ["CRLF split across chunks", "\r\n"],
  ])("reads a JSON lines file of more than 1 MiB with %s line breaks", async (_, lineBreak) => {
    const line = (i: number) =>
      JSON.stringify({ externalId: `J-${i}`, name: "Budi", jurisdiction: "ID", product: "card", currency: "IDR", balance: "1", daysPastDue: 1 });
    const text = Array.from({ length: 12_000 }, (_, i) => line(i + 1)).join(lineBreak);
    expect(text.length).toBeGreaterThan(1024 * 1024);
    const rows = await rowsOf(text, "jsonl", undefined, 4_099);
    expect(rows).toHaveLength(12_000);
    expect(rows.at(-1)).toMatchObject({ row: 12_000, values: { externalId: "J-12000" } });
  });

  it("numbers JSON lines as an editor does: blank lines count, whatever the line break", async () => {
    const line = (i: number) => JSON.stringify({ externalId: `J-${i}`, daysPastDue: i });
    const rows = await rowsOf(`\n${line(2)}\r\n\r\n${line(4)}\r  \r${line(6)}\n`, "jsonl");
    expect(rows.map((r) => [r.row, r.values.externalId])).toEqual([
      [2, "J-2"],
      [4, "J-4"],
      [6, "J-6"],
    ]);
  });

  it("finds the header of a file with CR line breaks without reading on to the end of the upload", async () => {
    async function* stalled() {
      yield Buffer.from(`${header}\rA-1,Budi,ID,card,IDR,1,1\rA-2,Asha,IN,card,INR,2,3\r`);
      await new Promise(() => {}); // the rest of the upload never comes
    }
    const file = await openImportFile(stalled(), "csv", undefined);
    expect((await file.rows[Symbol.asyncIterator]().next()).value).toMatchObject({ row: 2, values: { externalId: "A-1" } });
  });

  const NOT_DOUBLED = 'has quotes inside a quoted cell that are not doubled (write "" for a quote within quotes)';

  it.each([
    [header, 'A-1,"Budi "Bud" Santoso",ID,card,IDR,1,1', "name"],
    [header, 'A-1,"Budi" Santoso,ID,card,IDR,1,1', "name"],
    [header, 'A-1,"Budi ""Bud" Santoso",ID,card,IDR,1,1', "name"],
    [header, 'A-1,"""Bud"" Budi" Santoso,ID,card,IDR,1,1', "name"],
    // fields counted past a quoted separator and a well quoted cell
    [header, 'A-1,"Santoso, ""Bud""",ID,"card "gold"",IDR,1,1', "product"],
    [header.replaceAll(",", ";"), 'A-1;"Budi "Bud" Santoso";ID;card;IDR;1;1', "name"],
  ])("flags a quoted cell with bare quotes inside instead of storing it with its outer quotes: %s / %s", async (head, line, field) => {
    const rows = await rowsOf(`${head}\r\n${line}\r\n`);
    expect(rows.map((r) => r.problems)).toEqual([[{ field, reason: NOT_DOUBLED }]]);
  });

  it.each([
    ['"Budi ""Bud"" Santoso"', 'Budi "Bud" Santoso'],
    ['"""Bud"""', '"Bud"'],
    ['"""Budi"" Santoso"', '"Budi" Santoso'],
    ['""""', '"'],
    ['"Santoso, ""Bud"""', 'Santoso, "Bud"'],
    ['"""Bud""\nSantoso"', '"Bud"\nSantoso'],
    ['Budi "Bud" Santoso', 'Budi "Bud" Santoso'],
  ])("reads the cell %s as %s: doubled quotes are one", async (cell, name) => {
    for (const lineBreak of ["\n", "\r\n"]) {
      const rows = await rowsOf(`${header}${lineBreak}A-1,${cell},ID,card,IDR,1,1${lineBreak}A-2,Asha,IN,card,INR,1,${cell}`);
      expect(rows.map((r) => [r.values.name, r.problems])).toEqual([
        [name, []],
        ["Asha", []],
      ]);
    }
  });

  it("reads missing cells at the end of a row as empty, takes extra empty cells, and flags extra cells with values", async () => {
    const rows = await rowsOf(
      [
        `${header},phone,email`,
        "A-1,Budi,ID,card,IDR,1,1,,,", // a trailing separator
        "A-2,Budi,ID,card,IDR,1,1", // optional cells left out
        "A-3,Budi,ID,card,IDR,1", // a required one too
        "A-4,Budi,ID,card,IDR,1,1,,,extra, ",
      ].join("\n"),
    );
    expect(rows.map((r) => [r.row, r.values.externalId, r.problems])).toEqual([
      [2, "A-1", []],
      [3, "A-2", []],
      [4, "A-3", []],
      [5, "A-4", [{ field: "(row)", reason: "has a value in field 10, beyond the header's 9 columns" }]],
    ]);
    expect(accountFromRow(rows[1]!.values).problems).toBeUndefined();
    expect(accountFromRow(rows[2]!.values).problems).toEqual([{ field: "daysPastDue", reason: expect.any(String) }]);
  });

  it("reads a spreadsheet's Unicode text export (UTF-16 with a byte order mark, tab-separated) whatever Content-Type says", async () => {
    const text = `${header.replaceAll(",", "\t")}\r\nA-1\tJosé Müller\tID\tcard\tIDR\t1\t1\r\nA-2\tअनीता\tIN\tcard\tINR\t2\t3\r\n`;
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
    const be = Buffer.from(le).swap16();
    for (const [bytes, chunk] of [
      [le, 1],
      [le, 7],
      [be, 7],
    ] as const) {
      const file = await openImportFile(upload(bytes, chunk), "csv", "utf-8");
      const rows: FileRow[] = [];
      for await (const row of file.rows) rows.push(row);
      expect(file.charset()).toBe(bytes === be ? "utf-16be" : "utf-16le");
      expect(rows.map((r) => [r.values.externalId, r.values.name, r.problems])).toEqual([
        ["A-1", "José Müller", []],
        ["A-2", "अनीता", []],
      ]);
    }
  });

  // Before, such a file got "lacks columns" for every column, with no word of its encoding.
  it("says a file looks like UTF-16 without a byte order mark when its header matches no column", async () => {
    const bytes = Buffer.from(`${header.replaceAll(",", "\t")}\r\nA-1\tJosé\tID\tcard\tIDR\t1\t1\r\n`, "utf16le");
    const refused = await rowsOf(bytes).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ProblemError);
    expect((refused as ProblemError).status).toBe(400);
    expect((refused as ProblemError).message).toContain("as UTF-16 text read as another charset does: send charset=utf-16le");
    const plain = await rowsOf("externalId,nmae\nA-1,x\n").catch((error: unknown) => error);
    expect((plain as ProblemError).message).not.toContain("UTF-16");
  });

  it("decodes the charset the upload names, and flags text that is not in it", async () => {
    const latin1 = Uint8Array.from([...new TextEncoder().encode(`${header}\nA-1,Jos`), 0xe9, ...new TextEncoder().encode(",ID,card,IDR,1,1\n")]);
    expect((await rowsOf(latin1, "csv", "windows-1252"))[0]!.values.name).toBe("José");
    expect((await rowsOf(latin1, "csv", "utf-8"))[0]!.problems).toEqual([{ field: "name", reason: expect.stringContaining("charset") }]);
  });

  it.each([1, 2, 3, 7, 4096])(
    "reads a file that names no charset as UTF-8, or as Windows-1252 when its first character beyond ASCII is not (chunks of %i bytes)",
    async (chunk) => {
      const encode = (text: string) => new TextEncoder().encode(text);
      const names = async (bytes: Uint8Array) => (await rowsOf(bytes, "csv", undefined, chunk)).map((r) => [r.values.name, r.problems]);
      const ascii = Array.from({ length: 30 }, (_, i) => `A-${i},Budi,ID,card,IDR,1,1\n`).join("");
      // A spreadsheet's "CSV" on Windows: é is 0xE9 and € is 0x80 in Windows-1252.
      const cp1252 = Uint8Array.from([...encode(`${header}\n${ascii}B-1,Jos`), 0xe9, 0x20, 0x80, ...encode(",ID,card,IDR,1,1\n")]);
      expect((await names(cp1252)).at(-1)).toEqual(["José €", []]);
      expect((await names(cp1252)).slice(0, 30).every(([name, problems]) => name === "Budi" && (problems as unknown[]).length === 0)).toBe(true);
      // Its only byte beyond ASCII is the file's last.
      const lastByte = Uint8Array.from([...encode("externalId,jurisdiction,product,currency,balance,daysPastDue,name\nA-1,ID,card,IDR,1,1,Jos"), 0xe9]);
      expect(await names(lastByte)).toEqual([["José", []]]);
      // UTF-8, its characters cut anywhere by the chunks; once it is UTF-8, a byte that is not is flagged.
      const utf8 = [...encode(`${header}\n${ascii}A-1,José Müller,ID,card,IDR,1,1\nA-2,अनीता,IN,card,INR,2,3\nA-3,Jos`), 0xe9, ...encode(",ID,card,IDR,1,1\n")];
      expect((await names(Uint8Array.from(utf8))).slice(30)).toEqual([
        ["José Müller", []],
        ["अनीता", []],
        ["Jos\uFFFD", [{ field: "name", reason: expect.stringContaining("charset") }]],
      ]);
    },
  );

  it.each([
    ["", "the file is empty"],
    ["\uFEFF\r\n", "the file is empty"],
    [`${header}\n`, "no account rows"],
    ["externalId,name\nA,b\n", "lacks or repeats columns"],
    [`${header},external_id\nA,b,IN,c,INR,1,1,A\n`, "lacks or repeats columns"],
  ])("refuses %j before reading rows: %s", async (text, detail) => {
    const opened = rowsOf(text);
    await expect(opened).rejects.toBeInstanceOf(ProblemError);
    await expect(opened).rejects.toThrow(detail);
  });

  it("reads the names collection systems give the columns, and lists the columns it does not know", async () => {
    const file = await openImportFile(
      upload(
        new TextEncoder().encode(
          "Loan ID,Debtor Name,Mobile Number,Country,Product,Currency,Outstanding,DPD,Due Date,Email Address,TZ,Language,Branch\n" +
            "L-1,Budi,0812-3456-7890,ID,card,IDR,1500.50,12,2026-12-25,budi@example.com,Asia/Jakarta,id,Jakarta\n",
        ),
      ),
      "csv",
      undefined,
    );
    const rows: FileRow[] = [];
    for await (const row of file.rows) rows.push(row);
    expect(file.ignoredColumns).toEqual(["Branch"]);
    expect(accountFromRow(rows[0]!.values).account).toMatchObject({
      externalId: "L-1",
      name: "Budi",
      phone: "+6281234567890",
      balanceMinor: 150050n,
      daysPastDue: 12,
      dueDate: "2026-12-25",
      email: "budi@example.com",
      timeZone: "Asia/Jakarta",
      locale: "id",
    });
  });

  it.each([
    ["Phone", "Mobile", "phone"],
    ["Balance", "Outstanding Amount", "balance"],
    ["External ID", "Account No", "externalId"],
  ])("refuses a header naming one column twice, %s and %s, naming both headers", async (first, second, column) => {
    const columns = [...header.split(",").filter((c) => c !== column), first, second];
    const text = `${columns.join(",")}\n${columns.map((_, i) => i).join(",")}\n`;
    const opened = rowsOf(text);
    await expect(opened).rejects.toMatchObject({ status: 400, title: "Invalid columns", message: expect.stringContaining(column) });
    const found = (await opened.catch((error: unknown) => error)) as ProblemError;
    expect(found.errors).toEqual([{ field: `columns.${column}`, reason: expect.stringContaining(`"${first}" and "${second}"`) }]);
  });

  it("names the row a quote that never closes starts on, blank lines counted", async () => {
    const opened = rowsOf(`${header}\nA-1,x,IN,card,INR,1,1\n\n,,,\nA-2,"never closed,IN,card,INR,1,1\nA-3,x,IN,card,INR,1,1\n`);
    await expect(opened).rejects.toMatchObject({ status: 400, title: "Malformed CSV", message: expect.stringMatching(/^row 5 /) });
    // Below Excel's hint, which a spreadsheet hides, the same row is one up.
    const hinted = rowsOf(`sep=,\n${header}\nA-1,x,IN,card,INR,1,1\n\n,,,\nA-2,"never closed,IN,card,INR,1,1\nA-3,x,IN,card,INR,1,1\n`);
    await expect(hinted).rejects.toMatchObject({ status: 400, title: "Malformed CSV", message: expect.stringMatching(/^row 5 /) });
  });

  // The parser reads ahead: a file that arrives whole is parsed to its end, and the error met
  // there, while the import still writes its record. The rows before the break must not go with it.
  it.each([1, 7, 1_000_000])(
    "gives every row before a quote that never closes, then names its row and the line it opens on (chunks of %i bytes, rows read slowly)",
    async (chunk) => {
      const text = [
        "sep=;",
        header.replaceAll(",", ";"),
        "S-1;One;ID;card;IDR;100;1",
        "S-2;Two;ID;card;IDR;100;1",
        "S-3;Three;ID;card;IDR;100;1",
        'S-4;"Unclosed;ID;card;IDR;100;1',
        "S-5;After;ID;card;IDR;100;1",
        "",
      ].join("\r\n");
      const file = await openImportFile(upload(new TextEncoder().encode(text), chunk), "csv", undefined);
      const read: [number, unknown][] = [];
      const reading = (async () => {
        for await (const row of file.rows) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          read.push([row.row, row.values.externalId]);
        }
      })();
      await expect(reading).rejects.toMatchObject({ status: 400, title: "Malformed CSV", message: expect.stringMatching(/^row 5 \(line 6\): /) });
      expect(read).toEqual([
        [2, "S-1"],
        [3, "S-2"],
        [4, "S-3"],
      ]);
    },
  );

  it("names the line a quote that never closes opens on, past line breaks quoted in earlier rows, CRLF or not", async () => {
    const rows = Array.from({ length: 5_000 }, (_, i) => `A-${i},${i === 10 ? '"Two\r\nlines"' : i === 20 ? '"Three\nlines\rhere"' : "x"},IN,card,INR,1,1`);
    for (const lineBreak of ["\r\n", "\n"]) {
      const text = [header, ...rows, 'A-X,"never closed,IN,card,INR,1,1', ...rows.slice(0, 10)].join(lineBreak);
      // Row 5,002 (the header is row 1) starts on line 5,005: rows 12 and 22 span 2 and 3 lines.
      await expect(rowsOf(text, "csv", undefined, 64 * 1024)).rejects.toMatchObject({
        status: 400,
        message: expect.stringMatching(/^row 5002 \(line 5005\): .*never closes/),
      });
    }
  });

  it.each([
    ["csv", 'A-2,"never closed,IN,card,INR,1,1\n', "Malformed CSV", "row 3 is longer than 1 MiB"],
    ["jsonl", "[", "Malformed JSON lines", "row 2 is longer than 1 MiB"],
  ] as const)("%s: stops at a row longer than 1 MiB instead of reading the rest of the upload into it", async (format, broken, title, detail) => {
    const line = (i: number) =>
      format === "csv"
        ? `A-${i},x,IN,card,INR,1,1\n`
        : `{"externalId":"A-${i}","name":"x","jurisdiction":"IN","product":"card","currency":"INR","balance":"1","daysPastDue":1}`;
    // JSON lines: one good line, then a JSON array of the same objects on a single line.
    const rest = Array.from({ length: format === "csv" ? 150_000 : 60_000 }, (_, i) => line(i + 3)).join(format === "csv" ? "" : ",");
    const text = format === "csv" ? `${header}\n${line(1)}${broken}${rest}` : `${line(1)}\n${broken}${rest}]\n`;
    const bytes = new TextEncoder().encode(text);
    let sent = 0;
    const counted = (async function* () {
      for await (const chunk of upload(bytes, 64 * 1024)) {
        sent += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    })();
    const reading = (async () => {
      for await (const _ of (await openImportFile(counted, format, "utf-8")).rows);
    })();
    await expect(reading).rejects.toMatchObject({ status: 400, title, message: expect.stringContaining(detail) });
    expect(bytes.length).toBeGreaterThan(3 * 1024 * 1024);
    expect(sent).toBeLessThan(2 * 1024 * 1024);
  });

  it("hashes and counts the raw bytes", async () => {
    const bytes = new TextEncoder().encode(`${header}\nA-1,x,IN,card,INR,1,1\n`);
    const file = await openImportFile(upload(bytes), "csv", "utf-8");
    for await (const _ of file.rows);
    expect(file.bytesRead()).toBe(bytes.length);
    expect(file.fingerprint()).toBe(createHash("sha256").update(bytes).digest("hex"));
  });
});
