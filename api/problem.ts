// String.prototype.isWellFormed is in Node 20 (engines) but in TypeScript's ES2024 lib, past the project's ES2023.
/// <reference lib="es2024.string" />
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError, ZodType } from "zod";
// Words every zod issue as the product words its own reasons ("is required", "must be a string").
import "../domain/plain-reason.ts";

/** One invalid field of a request: where it is and why it was refused. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/** An RFC 9457 problem document; every error the API returns has this shape. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldProblem[];
}

export class ProblemError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly title: string,
    detail: string,
    readonly errors?: FieldProblem[],
  ) {
    super(detail);
  }
}

const TYPES: Record<number, string> = {
  400: "validation-error",
  401: "unauthorized",
  403: "forbidden",
  404: "not-found",
  409: "conflict",
  413: "payload-too-large",
  422: "unprocessable",
  500: "internal-error",
  503: "unavailable",
};

/**
 * Answers with an `application/problem+json` document.
 * @example return problem(c, 404, "Not found", `no campaign ${id}`);
 */
export function problem(c: Context, status: ContentfulStatusCode, title: string, detail: string, errors?: FieldProblem[]) {
  const body: Problem = { type: `https://tagih.dev/problems/${TYPES[status] ?? "error"}`, title, status, detail, ...(errors ? { errors } : {}) };
  return c.body(JSON.stringify(body), status, { "Content-Type": "application/problem+json" });
}

/**
 * Turns zod issues into field problems with dotted paths ("accounts.3.phone"). Their messages
 * are the schema's own or `plainReason`'s ("is required", "must be greater than 0").
 */
export function fieldProblems(error: ZodError, prefix?: string): FieldProblem[] {
  return error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join(".") || "(body)",
    reason: issue.message,
  }));
}

/** A 400 naming every invalid field. */
export function validationProblem(c: Context, errors: FieldProblem[]) {
  const fields = [...new Set(errors.map((e) => e.field))];
  return problem(c, 400, "Invalid request", `invalid ${fields.join(", ")}`, errors);
}

/**
 * Checks a vendor's parsed callback against its schema. Keys and strings PostgreSQL cannot
 * store (see `unstorableTextProblems`) are refused first: the raw event could not be kept
 * (and, in a batch, would fail the callbacks it joined).
 * @example const parsed = checkCallback(schema, params); if (!parsed.success) return validationProblem(c, parsed.problems);
 */
export function checkCallback<T>(schema: ZodType<T>, value: unknown): { success: true; data: T } | { success: false; problems: FieldProblem[] } {
  const unstorable = unstorableTextProblems(value);
  if (unstorable.length) return { success: false, problems: unstorable };
  const parsed = schema.safeParse(value);
  return parsed.success ? { success: true, data: parsed.data } : { success: false, problems: fieldProblems(parsed.error) };
}

/**
 * A problem for every key or string of a parsed body, by dotted path, that PostgreSQL's text
 * and jsonb cannot store: one holding a NUL character, or a lone UTF-16 surrogate (valid
 * JSON as `"\ud800"`, but no Unicode character).
 * @example unstorableTextProblems(JSON.parse('{"note": "\\ud800"}')) // [{ field: "note", reason: "must not contain unpaired surrogates" }]
 */
export function unstorableTextProblems(value: unknown, path: string[] = []): FieldProblem[] {
  if (typeof value === "string") return textProblems(value, path.join(".") || "(body)");
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    const field = [...path, key];
    const inKey = textProblems(key, field.join("."));
    return inKey.length ? inKey : unstorableTextProblems(inner, field);
  });
}

function textProblems(text: string, field: string): FieldProblem[] {
  if (text.includes("\0")) return [{ field, reason: "must not contain NUL characters" }];
  if (!text.isWellFormed()) return [{ field, reason: "must not contain unpaired surrogates" }];
  return [];
}
