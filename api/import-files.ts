// Reads an uploaded import file as a stream of rows: CSV (comma or semicolon, told by the
// header line) or JSON lines, hashing and counting the raw bytes as they pass. Nothing is
// held beyond the chunk being parsed and the rows the consumer has not taken yet, so a
// slow consumer slows the upload down (backpressure) instead of filling memory.
import { isAscii, isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { parse, type Options } from "csv-parse";
import { importColumnOf, missingImportColumns, type ImportColumn, type ImportRow, type RowProblem } from "../domain/account-input.ts";
import { ProblemError } from "./problem.ts";

export type ImportFormat = "csv" | "jsonl";

const FORMATS: Record<string, ImportFormat> = {
  "text/csv": "csv",
  "application/csv": "csv",
  "application/x-ndjson": "jsonl",
  "application/jsonl": "jsonl",
  "application/x-jsonlines": "jsonl",
};

/** Content types the import route takes, for its description and its 415. */
export const IMPORT_CONTENT_TYPES = Object.keys(FORMATS);

/**
 * The format and charset a Content-Type announces (no charset: undefined); undefined when it
 * is not an import format.
 * @example importTypeOf("text/csv; charset=windows-1252") // { format: "csv", charset: "windows-1252" }
 */
export function importTypeOf(contentType: string | undefined): { format: ImportFormat; charset: string | undefined } | undefined {
  const [type = "", ...params] = (contentType ?? "").split(";").map((p) => p.trim());
  const format = FORMATS[type.toLowerCase()];
  if (!format) return undefined;
  const charset = params
    .find((p) => /^charset=/i.test(p))
    ?.slice("charset=".length)
    .replace(/"/g, "");
  return { format, charset };
}

/** One row of the file: its number as the user sees it, its values, and what is wrong with its shape. */
export interface FileRow {
  row: number;
  values: ImportRow;
  problems: RowProblem[];
}

export interface ImportFile {
  rows: AsyncIterable<FileRow>;
  /** CSV columns Tagih does not know, ignored. */
  ignoredColumns: string[];
  /** The charset the file is read in: its byte order mark's, the one named, or the one its text told (final once `rows` is read). */
  charset(): string;
  bytesRead(): number;
  /** SHA-256 (hex) of the raw body; complete once `rows` has been read to its end. */
  fingerprint(): string;
}

// A character the decoder could not read: the file is not in the charset it claims.
const REPLACEMENT = "\uFFFD";

// No account row comes near this. A longer one is a quote that never closes (CSV) or a file
// that is not JSON lines (an array on one line): read on, it would hold the rest of the
// upload in memory and fail only at its end.
const MAX_ROW_BYTES = 1024 * 1024;
const TOO_LONG = "is longer than 1 MiB";

/**
 * Opens an upload: reads up to the first row, so a file without rows, or without a required
 * column, is refused (400) before anything is written. `declared` is the charset Content-Type
 * names; without one (and without a byte order mark) the file is UTF-8, unless its first
 * character beyond ASCII is not: then it is Windows-1252, as spreadsheet programs on
 * Windows save "CSV". A file named UTF-8 is held to it: text that is not UTF-8 rejects its row.
 */
export async function openImportFile(upload: AsyncIterable<Uint8Array>, format: ImportFormat, declared: string | undefined): Promise<ImportFile> {
  const { charset, body } = await sniffByteOrderMark(upload, declared);
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(charset ?? "utf-8");
  } catch {
    throw new ProblemError(415, "Unsupported media type", `unknown charset ${charset}`, [
      { field: "content-type", reason: `charset ${charset} is not one Tagih reads` },
    ]);
  }
  const hash = createHash("sha256");
  let bytes = 0;
  // Until the bytes go beyond ASCII, which both charsets read alike, an undeclared file's
  // charset is open; a chunk that cannot tell yet (it ends inside what may be a UTF-8
  // character) waits for the next one.
  let guessing = charset === undefined;
  let held: Uint8Array | undefined;
  const decide = (data: Uint8Array, final: boolean): boolean => {
    if (isAscii(data)) return true;
    const verdict = utf8Verdict(data);
    if (verdict === "open" && !final) return false;
    guessing = false;
    if (verdict !== "utf-8") decoder = new TextDecoder("windows-1252");
    return true;
  };
  // The TextDecoder drops the byte order mark and carries characters split across chunks.
  async function* text(): AsyncGenerator<string> {
    for await (const chunk of body) {
      hash.update(chunk);
      bytes += chunk.length;
      let data = chunk;
      if (guessing) {
        data = held ? Buffer.concat([held, chunk]) : chunk;
        held = undefined;
        if (!decide(data, false)) {
          held = data;
          continue;
        }
      }
      const decoded = decoder.decode(data, { stream: true });
      if (decoded) yield decoded;
    }
    const rest = (held && decide(held, true) ? decoder.decode(held, { stream: true }) : "") + decoder.decode();
    if (rest) yield rest;
  }
  const opened = format === "csv" ? await openCsv(text()) : await openJsonLines(text());
  const iterator = opened.rows[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) throw new ProblemError(400, "Empty file", "the file has no account rows", [{ field: "(body)", reason: "no account rows" }]);
  async function* rows(): AsyncGenerator<FileRow> {
    yield first.value as FileRow;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  return {
    rows: rows(),
    ignoredColumns: opened.ignoredColumns,
    charset: () => decoder.encoding,
    bytesRead: () => bytes,
    fingerprint: () => hash.copy().digest("hex"),
  };
}

/**
 * Whether the first character beyond ASCII in `data` is UTF-8: "open" when the bytes end
 * before it does (the next ones decide).
 */
function utf8Verdict(data: Uint8Array): "utf-8" | "other" | "open" {
  const first = data.findIndex((byte) => byte >= 0x80);
  const lead = data[first]!;
  const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (length === 0) return "other";
  if (first + length > data.length) return "open";
  return isUtf8(data.subarray(first, first + length)) ? "utf-8" : "other";
}

const BYTE_ORDER_MARKS: [number[], string][] = [
  [[0xef, 0xbb, 0xbf], "utf-8"],
  [[0xff, 0xfe], "utf-16le"],
  [[0xfe, 0xff], "utf-16be"],
];

/**
 * The charset of an upload: a byte order mark names it whatever Content-Type says (as
 * browsers decode, WHATWG Encoding "BOM sniff"), so a spreadsheet's "Unicode text" export
 * (UTF-16 with a BOM) reads without the sender knowing its charset. Returns the body again, whole.
 */
async function sniffByteOrderMark(
  upload: AsyncIterable<Uint8Array>,
  declared: string | undefined,
): Promise<{ charset: string | undefined; body: AsyncIterable<Uint8Array> }> {
  const source = upload[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let length = 0;
  while (length < 3) {
    const next = await source.next();
    if (next.done) break;
    head.push(next.value);
    length += next.value.length;
  }
  const start = Buffer.concat(head);
  const mark = BYTE_ORDER_MARKS.find(([bytes]) => bytes.every((b, i) => start[i] === b));
  async function* body(): AsyncGenerator<Uint8Array> {
    if (start.length > 0) yield start;
    for (let next = await source.next(); !next.done; next = await source.next()) yield next.value;
  }
  return { charset: mark?.[1] ?? declared, body: body() };
}

/**
 * The first line of the text with more than white space in it (without its line break), its
 * line number, and the text again, whole.
 */
async function peekLine(source: AsyncGenerator<string>): Promise<{ line: string; number: number; text: AsyncGenerator<string> }> {
  const head: string[] = [];
  let seen = "";
  // Read until a line with something on it has ended (or the text has).
  while (!/\S[^\r\n]*[\r\n]/.test(seen)) {
    const next = await source.next();
    if (next.done) break;
    head.push(next.value);
    seen += next.value;
  }
  const lines = seen.split(/\r\n|\r|\n/);
  const index = lines.findIndex((line) => line.trim() !== "");
  async function* again(): AsyncGenerator<string> {
    yield* head;
    yield* source;
  }
  return { line: lines[index] ?? "", number: index + 1, text: again() };
}

/**
 * csv-parse's own errors (codes such as CSV_QUOTE_NOT_CLOSED) as a 400 naming the row that
 * broke and the line it starts on; others are the upload's and pass as they are.
 */
function malformedCsv(error: unknown, row: number, line: number): unknown {
  const code = String((error as { code?: unknown }).code);
  if (!code.startsWith("CSV_")) return error;
  if (code === "CSV_MAX_RECORD_SIZE") {
    const reason = `row ${row} ${TOO_LONG}: does a quoted field in it never close?`;
    return new ProblemError(400, "Malformed CSV", reason, [{ field: "(body)", reason }]);
  }
  // csv-parse's own message names the line where the file ended, not the one to look at.
  const reason = code === "CSV_QUOTE_NOT_CLOSED" ? "a quote in it never closes (the file ends inside the quoted cell)" : (error as Error).message;
  return new ProblemError(400, "Malformed CSV", `row ${row} (line ${line}): ${reason}`, [{ field: "(body)", reason }]);
}

const DELIMITERS = [",", ";", "\t"] as const;

/** The separator of a CSV header line: the most frequent of comma, semicolon and tab outside quotes (the earlier on a tie). */
export function csvDelimiterOf(headerLine: string): (typeof DELIMITERS)[number] {
  const counts = { ",": 0, ";": 0, "\t": 0 };
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === "," || ch === ";" || ch === "\t")) counts[ch] += 1;
  }
  return DELIMITERS.reduce((best, d) => (counts[d] > counts[best] ? d : best));
}

// Excel's hint of the separator, written above the header by exporters meant for it.
const SEPARATOR_HINT = /^sep=(.)$/i;

async function openCsv(source: AsyncGenerator<string>): Promise<{ rows: AsyncIterable<FileRow>; ignoredColumns: string[] }> {
  const { line, number, text } = await peekLine(source);
  if (line.trim() === "") throw new ProblemError(400, "Empty file", "the file is empty", [{ field: "(body)", reason: "empty" }]);
  const hint = SEPARATOR_HINT.exec(line.replace(/^\uFEFF/, "").trim());
  // The hint is not a row to read, and a spreadsheet hides it: the header, the first record
  // read, is the row after any blank lines above the hint.
  const firstRow = hint ? number : 1;
  const delimiter = hint ? hint[1]! : csvDelimiterOf(line);
  const options: Options = {
    delimiter,
    // Any of the three, mixed in one file too (csv-parse would keep to the first it meets).
    record_delimiter: ["\r\n", "\n", "\r"],
    from_line: hint ? number + 1 : 1,
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    max_record_size: MAX_ROW_BYTES,
  };
  // Each record is a row as a spreadsheet numbers them (a quoted line break does not start
  // one). Blank rows and rows of separators only (",,,,", as spreadsheets leave below the
  // data) are skipped here, not by csv-parse, which would not count them.
  async function* records(): AsyncGenerator<{ row: number; cells: string[]; raw: string }> {
    let row = firstRow - 1;
    // Where the next record starts; a record spans one line more for each line break quoted in it.
    let nextLine = hint ? number + 1 : 1;
    try {
      for await (const parsed of csvRecords(text, options)) {
        for (const { record: cells, raw } of parsed) {
          row += 1;
          nextLine += 1 + lineBreaksIn(cells);
          if (cells.some((cell) => cell.trim() !== "")) yield { row, cells, raw };
        }
      }
    } catch (error) {
      throw malformedCsv(error, row + 1, nextLine);
    }
  }
  const numbered = records();
  const header = await numbered.next();
  const headerCells = header.done ? [] : header.value.cells;
  const columns = headerColumns(headerCells);
  async function* rows(): AsyncGenerator<FileRow> {
    for await (const { row, cells, raw } of numbered) {
      const values: ImportRow = {};
      const problems: RowProblem[] = [];
      // "Budi "Bud" Santoso": a quoted cell with bare quotes inside is read (relax_quotes) as
      // unquoted text, outer quotes and all, which would then go into messages. Such a cell
      // starts with a quote, as does a well quoted one holding a quote first ("""Bud"""):
      // only then is the record's text read again.
      const badlyQuoted = cells.some((cell) => cell.startsWith('"')) ? badlyQuotedFields(raw, delimiter) : undefined;
      // Missing cells at the end of a row are empty ones; cells beyond the header's columns
      // must be empty too (a trailing separator), or the row is not laid out as the header is.
      const stray = cells.findIndex((cell, index) => index >= headerCells.length && cell.trim() !== "");
      if (stray >= 0) problems.push({ field: "(row)", reason: `has a value in field ${stray + 1}, beyond the header's ${headerCells.length} columns` });
      for (const [index, column] of columns.byIndex) {
        // A cell missing at the end of a short row is an empty one: its column is in the file.
        const cell = cells[index] ?? "";
        if (cell.includes(REPLACEMENT))
          problems.push({
            field: column,
            reason: "is not readable in the file's charset (send the charset in Content-Type, e.g. text/csv; charset=windows-1252)",
          });
        if (badlyQuoted?.has(index))
          problems.push({ field: column, reason: 'has quotes inside a quoted cell that are not doubled (write "" for a quote within quotes)' });
        values[column] = cell;
      }
      yield { row, values, problems };
    }
  }
  return { rows: rows(), ignoredColumns: columns.ignored };
}

/** A record as csv-parse gives it with `raw`: its cells and its text as written. */
interface CsvRecord {
  record: string[];
  raw: string;
}

/**
 * The records of a CSV text, parsed as it comes, those of each chunk together. The parser is
 * fed by hand and read as soon as it has parsed, not piped: a stream that fails drops the
 * records it holds unread, and those before a broken one are rows to keep. The next chunk
 * is parsed once the consumer asks for more.
 */
async function* csvRecords(text: AsyncIterable<string>, options: Options): AsyncGenerator<CsvRecord[]> {
  // With each record's text as written: its cells alone cannot tell a quote doubled from a bare one.
  const parser = parse({ ...options, raw: true });
  parser.on("error", () => {}); // it comes back through the write or end that met it
  let records: CsvRecord[] = [];
  const read = () => {
    for (let record: CsvRecord | null = parser.read(); record !== null; record = parser.read()) records.push(record);
  };
  // A chunk is parsed as it is written, and the end in its callback: the records are read
  // then, before an error destroys the parser.
  const fed = (chunk?: string) => {
    const done = new Promise<void>((resolve, reject) => {
      const callback = (error?: Error | null) => {
        read();
        if (error) reject(error);
        else resolve();
      };
      if (chunk === undefined) parser.end(callback);
      else parser.write(chunk, callback);
    });
    read(); // the parser waits until its records are read once they pass its high-water mark
    return done;
  };
  const taken = () => {
    const all = records;
    records = [];
    return all;
  };
  try {
    for await (const chunk of text) {
      await fed(chunk);
      yield taken();
    }
    await fed();
    yield taken();
  } catch (error) {
    // The records before the break are whole: they go on before the error does.
    yield taken();
    throw error;
  }
}

/**
 * The fields of a CSV record's text whose quoted value closes before the field ends: a bare
 * quote inside, not doubled. The rest of such a field is read as csv-parse reads it then,
 * as unquoted text up to the next separator, so fields are counted as it counts them.
 * @example badlyQuotedFields('A-1,"Budi "Bud" Santoso","""Bud"""\n', ",") // Set { 1 }
 */
function badlyQuotedFields(raw: string, delimiter: string): Set<number> {
  const bad = new Set<number>();
  let field = 0;
  let quoted = false;
  let fieldStart = true;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (quoted) {
      if (ch !== '"') continue;
      if (raw[i + 1] === '"') i += 1;
      else {
        quoted = false;
        const next = raw[i + 1];
        if (next !== undefined && next !== delimiter && next !== "\r" && next !== "\n") bad.add(field);
      }
    } else if (ch === delimiter) {
      field += 1;
      fieldStart = true;
    } else {
      quoted = fieldStart && ch === '"';
      fieldStart = false;
    }
  }
  return bad;
}

/** How many line breaks are quoted in a record's cells. */
function lineBreaksIn(cells: string[]): number {
  let breaks = 0;
  for (const cell of cells) if (cell.includes("\n") || cell.includes("\r")) breaks += cell.match(/\r\n|\r|\n/g)!.length;
  return breaks;
}

/** Maps header cells to columns; a duplicate or missing required column is a 400 naming it. */
function headerColumns(cells: string[]): { byIndex: [number, ImportColumn][]; ignored: string[] } {
  const byIndex: [number, ImportColumn][] = [];
  const ignored: string[] = [];
  const seen = new Map<ImportColumn, string>();
  const problems: RowProblem[] = [];
  cells.forEach((cell, index) => {
    const column = importColumnOf(cell);
    if (!column) {
      if (cell.trim()) ignored.push(cell.trim());
      return;
    }
    const earlier = seen.get(column);
    if (earlier !== undefined) problems.push({ field: `columns.${column}`, reason: `named twice ("${earlier}" and "${cell.trim()}"): remove or rename one` });
    seen.set(column, cell.trim());
    byIndex.push([index, column]);
  });
  for (const missing of missingImportColumns(new Set(seen.keys()))) problems.push({ field: `columns.${missing}`, reason: "is missing from the header row" });
  if (problems.length > 0) {
    // UTF-16 read as one-byte text leaves a NUL beside every ASCII letter: no column matches.
    const utf16 = cells.some((cell) => cell.includes("\u0000"))
      ? "; the header row holds NUL characters, as UTF-16 text read as another charset does: send charset=utf-16le (or utf-16be) in Content-Type, or save the file with a byte order mark"
      : "";
    throw new ProblemError(
      400,
      "Invalid columns",
      `the header row lacks or repeats columns: ${problems.map((p) => p.field.slice("columns.".length)).join(", ")}${utf16}`,
      problems,
    );
  }
  return { byIndex, ignored };
}

async function openJsonLines(source: AsyncGenerator<string>): Promise<{ rows: AsyncIterable<FileRow>; ignoredColumns: string[] }> {
  const lines = createInterface({ input: Readable.from(withShortLines(source)), crlfDelay: Infinity });
  async function* rows(): AsyncGenerator<FileRow> {
    let row = 0;
    for await (const line of lines) {
      row += 1;
      if (line.trim() === "") continue;
      yield { row, ...jsonLineValues(line) };
    }
  }
  return { rows: rows(), ignoredColumns: [] };
}

/** One JSON line's values under their column names; fields that are not account fields are refused. */
function jsonLineValues(line: string): { values: ImportRow; problems: RowProblem[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    return { values: {}, problems: [{ field: "(row)", reason: `is not valid JSON: ${(error as Error).message}` }] };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return { values: {}, problems: [{ field: "(row)", reason: "is not a JSON object" }] };
  const values: ImportRow = {};
  const problems: RowProblem[] = [];
  const keyOf = new Map<string, string>();
  for (const [key, value] of Object.entries(parsed)) {
    const column = key === "consent" ? "consent" : importColumnOf(key);
    if (!column) problems.push({ field: key, reason: "is not an account field" });
    // "externalId" and "external_id" are one field: which of the two values is meant?
    else if (keyOf.has(column)) problems.push({ field: column, reason: `is given twice, as ${keyOf.get(column)} and ${key}` });
    else if (typeof value === "string" && value.includes(REPLACEMENT)) problems.push({ field: column, reason: "is not readable in the file's charset" });
    else values[column] = value;
    if (column) keyOf.set(column, key);
  }
  return { values, problems };
}

/**
 * The text as it comes, refused (400) once a line grows past MAX_ROW_BYTES (counted in
 * characters, which never outnumber bytes). Lines end as readline ends them: CRLF, LF or CR.
 */
async function* withShortLines(source: AsyncGenerator<string>): AsyncGenerator<string> {
  const lineBreak = /\r\n?|\n/g;
  let row = 1;
  let open = 0; // characters since the last line break
  let endedInCR = false; // a chunk's leading LF then completes a CRLF, and starts no line
  for await (const text of source) {
    let start = endedInCR && text.startsWith("\n") ? 1 : 0;
    lineBreak.lastIndex = start;
    for (let found = lineBreak.exec(text); found; found = lineBreak.exec(text)) {
      if (open + found.index - start > MAX_ROW_BYTES) break;
      row += 1;
      open = 0;
      start = found.index + found[0].length;
    }
    endedInCR = text.endsWith("\r");
    open += text.length - start;
    if (open > MAX_ROW_BYTES) {
      const reason = `row ${row} ${TOO_LONG}: is the file a JSON document rather than JSON lines (one object per line)?`;
      throw new ProblemError(400, "Malformed JSON lines", reason, [{ field: "(body)", reason }]);
    }
    yield text;
  }
}
