// Runs a portfolio import: validates each row of an open import file, upserts the valid ones
// in batches and keeps the `imports` record up to date as batches commit.
import { setTimeout as delay } from "node:timers/promises";
import { pMapIterable } from "p-map";
import type { FileRow, ImportFile, ImportFormat } from "../api/import-files.ts";
import { rowExternalId } from "../domain/account-input.ts";
import type pg from "pg";
import type { Import } from "../generated/prisma/client.ts";
import type { Database } from "../runtime/database.ts";
import { accountRecordSql, accountRowsSql, currencyInUseSql, currencyKeptReasonSql, upsertAccountsSql, upsertParameter } from "./accounts.ts";
import { retryOnDeadlock } from "./deadlocks.ts";
import type { RowOutcome, RowValidators } from "./import-validation.ts";
import { reconcilePayments, type PaymentDeps } from "./payments.ts";

/** "valid-rows": valid rows are kept, bad ones listed; "all-or-nothing": any bad row keeps them all out. */
export type ImportMode = "valid-rows" | "all-or-nothing";

export interface Rejection {
  row: number;
  field: string;
  reason: string;
}

export interface ImportSummary {
  import: Import;
  /** The first rejections, in file order (all of them are in `import_rejections`). */
  rejected: Rejection[];
  ignoredColumns: string[];
  /** The charset the file was read in ("utf-8", "windows-1252", "utf-16le", ...). */
  charset: string;
}

export interface ImportOptions {
  format: ImportFormat;
  mode: ImportMode;
  actor: string | null;
  /** The upload's announced length: an upload that ends short of it failed. */
  bytesTotal: number | undefined;
  batchSize?: number;
  /** How many rejections the summary carries. */
  rejectionsShown?: number;
}

/** The longest an import's upload may take: the API ends a request still receiving its body after this. */
export const IMPORT_UPLOAD_LIMIT_MS = 3_600_000;
// Beyond the upload, the longest its last batches and an all-or-nothing apply may take.
const IMPORT_FINISH_MARGIN_MS = 600_000;

/**
 * Marks failed the imports whose process stopped while they ran (a restart, a crash): no
 * import runs longer than its upload may plus its finish, so one still `running` after that
 * is no process's, whichever API process it ran in. Their staged rows are dropped. Returns
 * how many.
 */
export async function failInterruptedImports(db: Database): Promise<number> {
  const [row] = await db.$queryRaw<{ failed: bigint }[]>`
    WITH interrupted AS (
      UPDATE imports SET status = 'failed', finished_at = now(),
             error = 'interrupted: the API process stopped before the import finished; import the file again'
       WHERE status = 'running' AND started_at < now() - make_interval(secs => ${(IMPORT_UPLOAD_LIMIT_MS + IMPORT_FINISH_MARGIN_MS) / 1000})
      RETURNING id),
    dropped AS (DELETE FROM import_staging WHERE import_id IN (SELECT id FROM interrupted))
    SELECT count(*) AS failed FROM interrupted`;
  return Number(row!.failed);
}

/** The import's record, written before the first row is read. */
export function startImport(db: Database, options: ImportOptions): Promise<Import> {
  return db.import.create({
    data: {
      format: options.format,
      mode: options.mode,
      actor: options.actor,
      bytesTotal: options.bytesTotal === undefined ? null : BigInt(options.bytesTotal),
    },
  });
}

interface Batch {
  /** Valid rows as `upsertRow` writes them with their `import_row`, all naming the optional columns `named`. */
  accounts: string[];
  named: string;
  rejections: Rejection[];
  /** Rows read into this batch, valid or not, and how many of them were rejected. */
  rows: number;
  rejectedRows: number;
}

/**
 * Reads `file` to its end. Batches of valid rows are upserted while the next batch is
 * parsed (one batch in flight: the upload waits for the database, never the other way round).
 * Each batch commits with its rejections and the import's counters, so the record always
 * tells what is stored. "valid-rows": the batches are upserted. "all-or-nothing": they are
 * staged, and applied in one transaction once the whole file proved valid (accounts are
 * locked while it runs, not while the upload does); after the first rejection only the
 * external ids of the rows that follow are staged, so every bad row is listed, a repeat too. When reading fails (the upload died, the file is
 * malformed) the import is marked failed and the error rethrown; every row before the failure
 * is stored or listed (valid-rows) or nothing is (all-or-nothing). Then payments kept for accounts that now
 * exist are applied (`reconcilePayments`).
 *
 * Batches go through `bulk`, a node-postgres pool, rather than the Prisma client: its raw
 * queries pass each parameter through the query compiler, about 10 µs a row at import sizes.
 */
export async function runImport(
  deps: PaymentDeps & { bulk: pg.Pool; rowValidators: RowValidators },
  file: ImportFile,
  record: Import,
  options: ImportOptions,
): Promise<ImportSummary> {
  const { db, bulk, rowValidators, logger } = deps;
  const batchSize = options.batchSize ?? 1000;
  const allOrNothing = options.mode === "all-or-nothing";
  const shown: Rejection[] = [];
  const rejectionsShown = options.rejectionsShown ?? 1000;
  let anyRejected = false;
  // The rows the database finds repeated are those written (or staged); a rejected row's
  // external id is kept here, so a later valid row repeating it is refused too. Rejected rows
  // are few in a file worth importing; beyond the cap their ids are not kept.
  const rejectedIds = new Map<string, number>();
  const reject = (batch: Batch, rejections: Rejection[]) => {
    anyRejected = true;
    batch.rejectedRows += 1;
    for (const rejection of rejections) {
      batch.rejections.push(rejection);
      if (shown.length < rejectionsShown) shown.push(rejection);
    }
  };

  const readAll = async () => {
    let batch: Batch = { accounts: [], named: "", rejections: [], rows: 0, rejectedRows: 0 };
    let ids = new Set<string>();
    let inFlight: Promise<void> = Promise.resolve();
    const flush = async () => {
      await inFlight;
      const full = batch;
      batch = { accounts: [], named: "", rejections: [], rows: 0, rejectedRows: 0 };
      ids = new Set();
      inFlight = writeBatch(bulk, allOrNothing, record.id, full, file.bytesRead()).then((refused) => {
        if (refused.length > 0) anyRejected = true;
        for (const rejection of refused) if (shown.length < rejectionsShown) shown.push(rejection);
      });
    };
    // Chunks are validated on the threads while the event loop reads the next ones and writes; results come back in file order.
    const checked = pMapIterable(chunksOf(file.rows, CHUNK_ROWS, CHUNK_WAIT_MS), (chunk) => check(rowValidators, chunk), {
      concurrency: rowValidators.concurrency,
    });
    try {
      for await (const chunk of checked) {
        for (const { row, outcome } of chunk) {
          batch.rows += 1;
          const earlier = outcome.externalId === undefined ? undefined : rejectedIds.get(outcome.externalId);
          if (outcome.problems) {
            reject(
              batch,
              outcome.problems.map((p) => ({ row, field: p.field, reason: p.reason })),
            );
            if (outcome.externalId !== undefined && earlier === undefined && rejectedIds.size < MAX_REJECTED_IDS) rejectedIds.set(outcome.externalId, row);
          } else if (earlier !== undefined) {
            reject(batch, [{ row, field: "externalId", reason: repeatText(earlier) }]);
          } else {
            // all-or-nothing after a rejection: nothing staged will be applied, so a row stages
            // its external id only, which is what finds a later row repeating it. PostgreSQL
            // holds the ids (import_staging, dropped when the import ends), not the API: for
            // 1,000,000 rows about 200 MB of unlogged table and key, less than the same rows
            // staged whole; in the API's heap (160 MiB for an API-only process) they would not fit.
            const idOnly = allOrNothing && anyRejected;
            // A repeated external id goes in the next statement, which finds it repeated (one
            // statement cannot see its own rows). So does a JSON line naming other optional
            // fields than the batch's.
            if (ids.has(outcome.externalId) || (!idOnly && batch.accounts.length > 0 && outcome.named !== batch.named)) await flush();
            ids.add(outcome.externalId);
            if (idOnly) batch.accounts.push(idRow(outcome.externalId, row));
            else {
              batch.named = outcome.named;
              batch.accounts.push(importRow(outcome.json, row));
            }
          }
          if (batch.accounts.length + batch.rejections.length >= batchSize) await flush();
        }
      }
    } catch (error) {
      // Every row before the failure came through whole (results arrive in file order):
      // valid-rows keeps them all, the batch in flight and the one being filled, so the file
      // is stored up to the row that broke, before the import is marked failed. All-or-nothing
      // stages them only to be dropped, but its record then counts the same rows.
      await flush().catch(() => {});
      await inFlight.catch(() => {});
      throw error;
    }
    await flush();
    await inFlight;
    const ended = file.bytesRead();
    if (options.bytesTotal !== undefined && ended < options.bytesTotal) throw new Error(`the upload ended after ${ended} of ${options.bytesTotal} bytes`);
  };

  let failure: unknown;
  try {
    await readAll();
    // all-or-nothing: the staged rows are applied once the whole file proved valid.
    if (allOrNothing && !anyRejected) await retryOnDeadlock(() => applyStaged(bulk, record.id));
  } catch (error) {
    failure = error;
  } finally {
    if (allOrNothing) await bulk.query("DELETE FROM import_staging WHERE import_id = $1::uuid", [record.id]).catch(() => {});
  }

  const status = failure ? "failed" : allOrNothing && anyRejected ? "rolled_back" : "completed";
  const finished = await db.import.update({
    where: { id: record.id },
    data: {
      status,
      ...(allOrNothing && status !== "completed" ? { imported: 0, updated: 0 } : {}),
      bytesRead: BigInt(file.bytesRead()),
      fingerprint: failure ? null : file.fingerprint(),
      error: failure ? (failure instanceof Error ? failure.message : String(failure)).slice(0, 2000) : null,
      finishedAt: new Date(),
    },
  });
  // Payments that arrived before their accounts: whatever this import stored, even a part of it.
  // One that cannot be applied now waits for the next import or the gateway's redelivery.
  await reconcilePayments(deps).catch((error: unknown) =>
    logger.error({ err: error, importId: record.id }, "could not apply the payments waiting for imported accounts"),
  );
  if (failure) throw failure;
  // A repeated external id (or a kept currency) is found when its batch is written, after later rows were read.
  shown.sort((a, b) => a.row - b.row);
  return { import: finished, rejected: shown, ignoredColumns: file.ignoredColumns, charset: file.charset() };
}

// Rows go to the validation threads in chunks: large enough that a thread's round trip is
// small beside the work, small enough that a few in flight hold little memory.
const CHUNK_ROWS = 500;
// A chunk also ends this long after its first row, so the rows of an upload that pauses are
// validated and written (and counted in its progress) without waiting for more.
const CHUNK_WAIT_MS = 20;

const PAUSED = Symbol("paused");

/** The rows in chunks of at most `size`, each ending at most `waitMs` after its first row was read. */
export async function* chunksOf(rows: AsyncIterable<FileRow>, size: number, waitMs: number): AsyncGenerator<FileRow[]> {
  const iterator = rows[Symbol.asyncIterator]();
  let chunk: FileRow[] = [];
  let paused: Promise<typeof PAUSED> = new Promise(() => {});
  const pull = () => {
    const next = iterator.next();
    next.catch(() => {}); // a read that fails after the import stopped listening must not go unhandled
    return next;
  };
  let next = pull();
  for (;;) {
    let result: IteratorResult<FileRow> | typeof PAUSED;
    try {
      result = chunk.length === 0 ? await next : await Promise.race([next, paused]);
    } catch (error) {
      // The rows read before the file broke are whole: they go on before the error does.
      if (chunk.length > 0) yield chunk;
      throw error;
    }
    if (result === PAUSED) {
      yield chunk;
      chunk = [];
      continue; // `next` is still the pending read
    }
    if (result.done) break;
    chunk.push(result.value);
    if (chunk.length === 1) paused = delay(waitMs, PAUSED);
    next = pull();
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** A chunk's outcomes in its order; rows the file reader already refused are not sent to a thread. */
async function check(validators: RowValidators, chunk: FileRow[]): Promise<{ row: number; outcome: RowOutcome }[]> {
  const sound = chunk.filter((r) => r.problems.length === 0);
  const outcomes = sound.length > 0 ? await validators.validate(sound.map((r) => r.values)) : [];
  let next = 0;
  return chunk.map((r) => ({ row: r.row, outcome: r.problems.length > 0 ? { externalId: rowExternalId(r.values), problems: r.problems } : outcomes[next++]! }));
}

/** A valid row's upsert JSON with its row number, which the account keeps (`import_row`) to name it to a later row repeating its external id. */
function importRow(json: string, row: number): string {
  return `${json.slice(0, -1)},"import_row":${row}}`;
}

/** A row staged by its external id alone (all-or-nothing after a rejection), to find a later row repeating it. */
function idRow(externalId: string, row: number): string {
  return `{"external_id":${JSON.stringify(externalId)},"import_row":${row}}`;
}

const REPEAT = ": an account may appear once in a file";
/** Why a row repeating an external id is rejected; `earlier` is the row holding it. */
const repeatText = (earlier: number) => `is also at row ${earlier}${REPEAT}`;
/** repeatText in SQL; `earlier` is the SQL of the row holding it. */
const repeatReason = (earlier: string) => `'is also at row ' || ${earlier} || '${REPEAT}'`;

/** How many rejected rows' external ids an import keeps (`rejectedIds`): about 100 bytes each. */
const MAX_REJECTED_IDS = 200_000;

// The batch's accounts, parsed once for the upsert and for finding the repeated external ids.
const INPUT = (parameter: string) => `input AS MATERIALIZED (SELECT * FROM ${accountRowsSql(parameter)})`;

/**
 * The rows of `input` that `written` (a CTE returning external_id) left out (none, mostly),
 * as `unwritten`, so what left them out is read for those only.
 */
function unwrittenSql(written: string): string {
  return `unwritten AS MATERIALIZED (SELECT i.external_id, i.import_row, i.currency FROM input i WHERE NOT EXISTS (SELECT FROM ${written} w WHERE w.external_id = i.external_id))`;
}

// What a batch's statement refused beyond the file's own rejections (`refused`: row, field,
// reason), as the JSON the statement returns.
const REFUSED_JSON = `(SELECT coalesce(json_agg(json_build_object('row', "row", 'field', field, 'reason', reason) ORDER BY "row"), '[]') FROM refused)`;

// Rejections travel as three arrays (row, field, reason) after the import's id; the rows the statement refused are added to them.
// They are listed in the order stored, so they are stored in row order.
const INSERT_REJECTIONS = `INSERT INTO import_rejections (import_id, "row", field, reason)
  SELECT $1::uuid, r."row", r.field, r.reason FROM (
    SELECT * FROM unnest($2::int[], $3::text[], $4::text[]) WITH ORDINALITY AS f("row", field, reason, n)
    UNION ALL SELECT "row", field, reason, 0 FROM refused) r
  ORDER BY r."row", r.n`;

/**
 * valid-rows: a batch's accounts, rejections and the import's counters in one statement, so
 * they commit together. The upsert leaves out a row whose external id an earlier row of this
 * import wrote (the statement's snapshot holds it: a repeat) or whose account keeps its
 * currency; each is refused, naming why.
 */
const WRITE_BATCH = `WITH ${INPUT("$8")},
  up AS (${upsertAccountsSql({ rows: "input i", named: "$9", importId: "$1::uuid" })}),
  ${unwrittenSql("up")},
  refused AS (SELECT u.import_row AS "row", CASE WHEN h.import_id = $1::uuid THEN 'externalId' ELSE 'currency' END AS field,
                     CASE WHEN h.import_id = $1::uuid THEN ${repeatReason("h.import_row")} ELSE ${currencyKeptReasonSql("h.currency")} END AS reason
                FROM unwritten u JOIN accounts h USING (external_id)),
  counted AS (SELECT count(*) FILTER (WHERE created) AS created, count(*) AS total FROM up),
  rejected AS (${INSERT_REJECTIONS})
UPDATE imports SET rows = rows + $5, imported = imported + counted.created, updated = updated + counted.total - counted.created,
       rejected_count = rejected_count + $6 + (SELECT count(*) FROM refused), bytes_read = $7::bigint
  FROM counted WHERE imports.id = $1::uuid
RETURNING ${REFUSED_JSON} AS refused`;

// all-or-nothing: a batch's valid rows staged, its rejections and the import's progress in one
// statement. A row whose external id an earlier row staged is refused like one the accounts
// hold, and so is one whose account keeps its currency (checked now, as the file is read).
const STAGE_BATCH = `WITH input AS MATERIALIZED (SELECT e.value AS account, i.external_id, i.import_row, i.currency FROM json_array_elements($8::json) AS e, ${accountRecordSql("e.value")}),
  kept AS MATERIALIZED (SELECT i.import_row, a.currency FROM input i JOIN accounts a USING (external_id) WHERE a.currency <> i.currency AND ${currencyInUseSql("a")}),
  staged AS (INSERT INTO import_staging (import_id, external_id, "row", named, account)
             SELECT $1::uuid, external_id, import_row, $9, account FROM input WHERE import_row NOT IN (SELECT import_row FROM kept)
             ON CONFLICT DO NOTHING RETURNING external_id),
  ${unwrittenSql("staged")},
  refused AS (SELECT import_row AS "row", 'currency' AS field, ${currencyKeptReasonSql("currency")} AS reason FROM kept
              UNION ALL
              SELECT u.import_row, 'externalId', ${repeatReason('h."row"')} FROM unwritten u JOIN import_staging h ON h.import_id = $1::uuid AND h.external_id = u.external_id
               WHERE u.import_row NOT IN (SELECT import_row FROM kept)),
  rejected AS (${INSERT_REJECTIONS})
UPDATE imports SET rows = rows + $5, rejected_count = rejected_count + $6 + (SELECT count(*) FROM refused), bytes_read = $7::bigint
 WHERE imports.id = $1::uuid
RETURNING ${REFUSED_JSON} AS refused`;

/** all-or-nothing: the staged accounts naming the optional columns $2 (`namedColumns`, comma-separated), upserted. */
const APPLY_STAGED = `WITH up AS (${upsertAccountsSql({
  rows: `import_staging s, ${accountRecordSql("s.account")} WHERE s.import_id = $1::uuid AND s.named = $2`,
  named: "string_to_array(nullif($2, ''), ',')",
  importId: "$1::uuid",
})})
UPDATE imports SET imported = imported + (SELECT count(*) FILTER (WHERE created) FROM up), updated = updated + (SELECT count(*) FILTER (WHERE NOT created) FROM up)
 WHERE id = $1::uuid`;

/**
 * Applies an all-or-nothing import's staged rows in one transaction, so accounts are locked
 * for as long as these statements take, not for as long as the upload did.
 */
async function applyStaged(bulk: pg.Pool, importId: string): Promise<void> {
  const client = await bulk.connect();
  try {
    await client.query("BEGIN");
    const { rows: groups } = await client.query<{ named: string }>("SELECT DISTINCT named FROM import_staging WHERE import_id = $1::uuid", [importId]);
    for (const { named } of groups) await client.query(APPLY_STAGED, [importId, named]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** UPSERT_ACCOUNTS_SQL's parameters for a batch. */
function upsertParameters(batch: Batch): [string, string[]] {
  return [upsertParameter(batch.accounts), batch.named ? batch.named.split(",") : []];
}

/**
 * Writes one batch (valid-rows: upserted; all-or-nothing: staged) with its rejections and the
 * import's progress, in a single statement: a batch costs one round trip, and what the import
 * record tells is what was written. Answers the rows the statement refused: a repeated
 * external id, an account that keeps its currency.
 */
async function writeBatch(bulk: pg.Pool, staged: boolean, importId: string, batch: Batch, bytesRead: number): Promise<Rejection[]> {
  const rejections = batch.rejections;
  const [accounts, named] = upsertParameters(batch);
  const {
    rows: [written],
  } = await retryOnDeadlock(() =>
    bulk.query<{ refused: Rejection[] }>(staged ? STAGE_BATCH : WRITE_BATCH, [
      importId,
      rejections.map((r) => r.row),
      rejections.map((r) => r.field),
      rejections.map((r) => r.reason),
      batch.rows,
      batch.rejectedRows,
      String(bytesRead),
      accounts,
      staged ? batch.named : named,
    ]),
  );
  return written!.refused;
}
