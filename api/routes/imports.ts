import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { Import } from "../../generated/prisma/client.ts";
import { IMPORT_COLUMN_ALIASES, IMPORT_COLUMNS } from "../../domain/account-input.ts";
import { runImport, startImport } from "../../store/account-import.ts";
import { IMPORT_CONTENT_TYPES, importTypeOf, openImportFile } from "../import-files.ts";
import { decodeCursor, page, pageOf, pageQuery } from "../pagination.ts";
import { problem, ProblemError } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";
import { createHash } from "node:crypto";
import { DatabaseError } from "pg";
import { recordAudit } from "../../store/audit.ts";
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from "../../store/idempotency.ts";
import { principalOf } from "../access.ts";
import { answerClaimed, idempotencyClaim, requestFingerprint } from "../idempotency.ts";

/** The path of the streamed import, exempt from the API's request body limit. */
export const IMPORT_PATH = "/v1/accounts/import";

/** How many rejections the import's response lists; all of them are at `/v1/imports/{id}/rejections`. */
const REJECTIONS_SHOWN = 1000;

const importSchema = z.object({
  id: z.string(),
  status: z.enum(["running", "completed", "failed", "rolled-back"]),
  format: z.enum(["csv", "jsonl"]),
  mode: z.enum(["valid-rows", "all-or-nothing"]),
  actor: z.string().nullable(),
  /** Rows read so far (valid and rejected). */
  rows: z.number(),
  imported: z.number(),
  updated: z.number(),
  rejectedCount: z.number(),
  bytesRead: z.number(),
  bytesTotal: z.number().nullable(),
  error: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
});

const rejectionSchema = z.object({ row: z.number(), field: z.string(), reason: z.string() });

const view = (i: Import): z.infer<typeof importSchema> => ({
  id: i.id,
  status: i.status === "rolled_back" ? "rolled-back" : i.status,
  format: i.format as "csv" | "jsonl",
  mode: i.mode as "valid-rows" | "all-or-nothing",
  actor: i.actor,
  rows: i.rows,
  imported: i.imported,
  updated: i.updated,
  rejectedCount: i.rejectedCount,
  bytesRead: Number(i.bytesRead),
  bytesTotal: i.bytesTotal === null ? null : Number(i.bytesTotal),
  error: i.error,
  startedAt: i.startedAt.toISOString(),
  finishedAt: i.finishedAt?.toISOString() ?? null,
});

// A plain OpenAPI schema, not zod: the router would otherwise read "application/jsonl" as JSON and parse the body.
const fileBody = { type: "string" as const, format: "binary" };

const importAccounts = createRoute({
  method: "post",
  path: IMPORT_PATH,
  tags: ["accounts"],
  summary: "Import a portfolio file (CSV or JSON lines), streamed; upsert by externalId",
  description:
    `CSV (comma, semicolon or tab, told by the header row; UTF-8 with or without BOM, UTF-16 with a BOM, or the \`charset\` of Content-Type; with none named, Windows-1252 when the first character beyond ASCII is not UTF-8) with a header row naming columns ` +
    `${IMPORT_COLUMNS.map((c) => `\`${c}\``).join(", ")} (case, spaces, \`_\` and \`-\` ignored: \`external_id\` is \`externalId\`; other columns are ignored and listed), or by the names other systems give them: ` +
    `${Object.entries(IMPORT_COLUMN_ALIASES)
      .map(([column, aliases]) => `${aliases.map((a) => `\`${a}\``).join(", ")} (\`${column}\`)`)
      .join("; ")}. A header naming one column twice is refused. An external id appears once per file: a later row repeating it is rejected. ` +
    "`balance` is in major units (`1234.56`, no thousands separators), `balanceMinor` in minor units. Phone numbers in national format are read in the " +
    "jurisdiction's country (`country` may stand for the jurisdiction). JSON lines: one account per line with the same field names. " +
    "Rows are numbered as the user sees them: in CSV the header is row 1; in JSON lines, line numbers. " +
    "`mode=valid-rows` (default) keeps every valid row; `mode=all-or-nothing` keeps none when any row is rejected. " +
    `The response lists the first ${REJECTIONS_SHOWN} rejections; \`GET /v1/imports/{id}/rejections\` has them all. Progress: \`GET /v1/imports/{id}\`.`,
  request: {
    query: z.object({ mode: z.enum(["valid-rows", "all-or-nothing"]).default("valid-rows") }),
    body: { required: true, content: Object.fromEntries(IMPORT_CONTENT_TYPES.map((t) => [t, { schema: fileBody }])) },
  },
  responses: {
    200: {
      description: "The file was read to its end: `status` is completed, or rolled-back (all-or-nothing with rejected rows)",
      content: {
        "application/json": {
          schema: importSchema.extend({
            rejected: z.array(rejectionSchema),
            ignoredColumns: z.array(z.string()),
            charset: z.string().describe("the charset the file was read in: its byte order mark's, the one named, or windows-1252 when its text was not UTF-8"),
          }),
        },
      },
    },
    400: { description: "Empty file, missing or repeated columns, malformed CSV (the import is then failed; valid-rows keeps what committed)" },
    415: { description: "Not a CSV or JSON lines content type, or an unknown charset" },
    503: { description: "The database stopped the import (the import is then failed; valid-rows keeps what committed): send the file again" },
  },
});

const idParam = z.object({ id: z.uuid() });

const getImport = createRoute({
  method: "get",
  path: "/v1/imports/{id}",
  tags: ["accounts"],
  summary: "One import, with its progress while it runs",
  request: { params: idParam },
  responses: { 200: { description: "The import", content: { "application/json": { schema: importSchema } } }, 404: { description: "No such import" } },
});

const listImports = createRoute({
  method: "get",
  path: "/v1/imports",
  tags: ["accounts"],
  summary: "Imports, newest first",
  request: { query: pageQuery },
  responses: {
    200: { description: "A page of imports", content: { "application/json": { schema: pageOf(importSchema) } } },
    400: { description: "Invalid limit or cursor" },
  },
});

const listRejections = createRoute({
  method: "get",
  path: "/v1/imports/{id}/rejections",
  tags: ["accounts"],
  summary: "Every rejected row of an import, in file order",
  request: { params: idParam, query: pageQuery },
  responses: {
    200: { description: "A page of rejections", content: { "application/json": { schema: pageOf(rejectionSchema) } } },
    400: { description: "Invalid limit or cursor" },
    404: { description: "No such import" },
  },
});

export function importRoutes({ db, temporal, bulk, rowValidators, logger }: ApiDeps) {
  const app = router();

  app.openapi(importAccounts, async (c) => {
    const { mode } = c.req.valid("query");
    const contentType = c.req.header("content-type");
    const type = importTypeOf(contentType);
    if (!type) {
      const reason = `must be one of ${IMPORT_CONTENT_TYPES.join(", ")}`;
      return problem(c, 415, "Unsupported media type", `an import is CSV or JSON lines, not ${contentType ?? "a body without a content type"}`, [
        { field: "content-type", reason },
      ]);
    }
    const body = uploadOf(c);
    if (!body) return problem(c, 400, "Empty file", "the request has no body", [{ field: "(body)", reason: "empty" }]);
    const claim = idempotencyClaim(c, { method: "POST", path: IMPORT_PATH });
    const claimed = claim && (await claimIdempotencyKey(db, claim));
    if (claimed && claimed.state !== "new") {
      // A retry: the file is read to its end only to compare it with the first one's.
      return answerClaimed(c, claimed, claimed.state === "done" ? requestFingerprint(c, await sha256Of(body)) : "");
    }
    const length = Number(c.req.header("content-length"));
    const options = {
      format: type.format,
      mode,
      actor: principalOf(c).keyId,
      bytesTotal: Number.isSafeInteger(length) ? length : undefined,
      rejectionsShown: REJECTIONS_SHOWN,
    };
    let record: Import | undefined;
    let log = logger;
    try {
      const file = await openImportFile(body, type.format, type.charset);
      record = await startImport(db, options);
      log = logger.child({ importId: record.id });
      log.info({ format: type.format, mode }, "import started");
      const summary = await runImport({ db, temporal, logger, bulk, rowValidators }, file, record, options);
      log.info(
        { rows: summary.import.rows, imported: summary.import.imported, updated: summary.import.updated, rejected: summary.import.rejectedCount },
        "import finished",
      );
      const answer = { ...view(summary.import), rejected: summary.rejected, ignoredColumns: summary.ignoredColumns, charset: summary.charset };
      await recordAudit(db, {
        actor: options.actor,
        action: "accounts.import",
        target: { type: "import", id: record.id },
        detail: {
          format: type.format,
          mode,
          rows: summary.import.rows,
          imported: summary.import.imported,
          updated: summary.import.updated,
          rejected: summary.import.rejectedCount,
        },
      });
      // The SHA-256 of the file was taken while it streamed.
      if (claim)
        await completeIdempotencyKey(db, { ...claim, fingerprint: requestFingerprint(c, file.fingerprint()), status: 200, body: JSON.stringify(answer) });
      return c.json(answer, 200);
    } catch (error) {
      // A broken or refused upload (even before any row) was not read to its end, so there is
      // no fingerprint to replay against: freed, the key may be sent again.
      if (claim) await releaseIdempotencyKey(db, claim);
      if (!record) throw error;
      const failed = await db.import.findUniqueOrThrow({ where: { id: record.id } });
      const kept =
        mode === "all-or-nothing"
          ? "nothing was kept"
          : `the ${failed.rows} rows before it were read: ${failed.imported + failed.updated} kept, ${failed.rejectedCount} rejected (GET /v1/imports/${record.id}/rejections)`;
      log.warn({ err: error, rows: failed.rows }, "import failed");
      if (error instanceof ProblemError)
        throw new ProblemError(error.status, error.title, `${error.message}; import ${record.id} failed, ${kept}`, error.errors);
      // Our side failed, not the file: the same upload can be sent again (rows update in place).
      if (error instanceof DatabaseError)
        throw new ProblemError(
          503,
          "Import interrupted",
          `the database stopped the import (${error.message}); import ${record.id} failed, ${kept}; send the file again: accounts already stored are updated, not added twice`,
        );
      throw new ProblemError(400, "Upload failed", `the upload broke off (${(error as Error).message}); import ${record.id} failed, ${kept}`);
    }
  });

  app.openapi(getImport, async (c) => {
    const { id } = c.req.valid("param");
    const found = await db.import.findUnique({ where: { id } });
    if (!found) throw new ProblemError(404, "Not found", `no import ${id}`);
    return c.json(view(found), 200);
  });

  app.openapi(listImports, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor, ["timestamp", "uuid"]);
    const rows = await db.import.findMany({
      where: after ? { OR: [{ startedAt: { lt: after[0] } }, { startedAt: after[0], id: { lt: after[1] } }] } : {},
      orderBy: [{ startedAt: "desc" }, { id: "desc" }],
      take: limit + 1,
    });
    return c.json(
      page(rows, limit, (i) => [i.startedAt.toISOString(), i.id], view),
      200,
    );
  });

  app.openapi(listRejections, async (c) => {
    const { id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor, ["integer"]);
    if (!(await db.import.findUnique({ where: { id }, select: { id: true } }))) throw new ProblemError(404, "Not found", `no import ${id}`);
    const rows = await db.importRejection.findMany({
      where: { importId: id, ...(after ? { id: { gt: after[0] } } : {}) },
      orderBy: { id: "asc" },
      take: limit + 1,
    });
    return c.json(
      page(
        rows,
        limit,
        (r) => [r.id.toString()],
        (r) => ({ row: r.row, field: r.field, reason: r.reason }),
      ),
      200,
    );
  });

  return app;
}

/**
 * The request body as a Node stream. Under @hono/node-server the socket's own stream is read:
 * the web stream Node 20 wraps it in buffers ahead without bound (Readable.toWeb's queue
 * counts chunks, not bytes), which would hold a large upload in memory. Nothing may have
 * touched `c.req.raw.body` before.
 */
function uploadOf(c: Context): AsyncIterable<Uint8Array> | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming) return incoming;
  return c.req.raw.body ? Readable.fromWeb(c.req.raw.body as WebReadableStream<Uint8Array>) : undefined;
}

async function sha256Of(body: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of body) hash.update(chunk);
  return hash.digest("hex");
}
