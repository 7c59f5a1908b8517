import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError, ZodType } from "zod";

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

/** Turns zod issues into field problems with dotted paths ("accounts.3.phone"). */
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
 * Checks a vendor's parsed callback against its schema. Keys and strings holding a NUL
 * character are refused first: PostgreSQL's text and jsonb cannot store one, so the raw
 * event could not be kept (and, in a batch, would fail the callbacks it joined).
 * @example const parsed = checkCallback(schema, params); if (!parsed.success) return validationProblem(c, parsed.problems);
 */
export function checkCallback<T>(schema: ZodType<T>, value: unknown): { success: true; data: T } | { success: false; problems: FieldProblem[] } {
  const withNul = nulFieldProblems(value);
  if (withNul.length) return { success: false, problems: withNul };
  const parsed = schema.safeParse(value);
  return parsed.success ? { success: true, data: parsed.data } : { success: false, problems: fieldProblems(parsed.error) };
}

/** A problem for every key or string of a parsed body holding a NUL character, by dotted path. */
export function nulFieldProblems(value: unknown, path: string[] = []): FieldProblem[] {
  if (typeof value === "string") return value.includes("\0") ? [{ field: path.join(".") || "(body)", reason: "must not contain NUL characters" }] : [];
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key.includes("\0") ? [{ field: [...path, key].join("."), reason: "must not contain NUL characters" }] : nulFieldProblems(inner, [...path, key]),
  );
}
