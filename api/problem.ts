import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";

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
