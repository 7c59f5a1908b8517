import { z } from "zod";
import { JURISDICTIONS } from "./compliance/policies/index.ts";
import { currencyCodeSchema } from "./money.ts";

// The columns' limits: a bound beyond them fails every enrolment query, not just matches nothing.
const MAX_MINOR = 2n ** 63n - 1n;
const MAX_DAYS = 2_147_483_647;
const NOT_MINOR = "must be a non-negative integer (minor units), as a number or a digit string";

// Not account-input's jurisdictionSchema: importing that module here would build its schemas
// before the API extends zod with .openapi().
const jurisdiction = z
  .string()
  .trim()
  .toUpperCase()
  .refine((v) => JURISDICTIONS.includes(v), `must be one of ${JURISDICTIONS.join(", ")}`);

// Amounts stay decimal strings so the segment is stored as JSON exactly.
const minorAmount = z
  .union([
    z
      .number()
      // A JSON number above 2^53 has lost digits before we see it.
      .int({ error: (issue) => (Number.isInteger(issue.input) ? "is larger than a JSON number holds exactly: send it as a digit string" : NOT_MINOR) })
      .nonnegative(NOT_MINOR),
    z.string().regex(/^\d+$/, NOT_MINOR),
  ])
  .transform((v) => BigInt(v).toString())
  .refine((v) => BigInt(v) <= MAX_MINOR, "is larger than the largest amount Tagih stores (2^63 - 1 minor units)");

/**
 * An object refusing unknown keys one by one, each named ("segment.daysPastDue.from"), where
 * `.strict()` names only the object: a misspelled criterion or bound dropped would widen the
 * segment. The meta keeps the OpenAPI document saying no other keys are allowed.
 */
function closedObject<T extends z.ZodRawShape>(shape: T) {
  const unknownKey = z.unknown().refine(() => false, { error: `is not one of ${Object.keys(shape).join(", ")}` });
  // Typed as strict: the catchall lets no other key through, so the output has none.
  return z.object(shape).catchall(unknownKey) as unknown as z.ZodObject<T, z.core.$strict>;
}
const closed = { additionalProperties: false };

/** A `{ min, max }` range, both optional and inclusive; a max below the min is refused (it could match nothing). */
function range<T extends z.ZodType<string | number>>(bound: T, compare: (a: z.output<T>, b: z.output<T>) => number) {
  return closedObject({ min: bound.optional(), max: bound.optional() })
    .superRefine(
      (r, ctx) => {
        if (r.min !== undefined && r.max !== undefined && compare(r.max as z.output<T>, r.min as z.output<T>) < 0) {
          ctx.addIssue({ code: "custom", path: ["max"], message: `must not be below min (${String(r.min)})` });
        }
      },
      // Compared only once both bounds are valid: BigInt("abc") would throw (a 500).
      { when: (payload) => payload.issues.length === 0 },
    )
    .meta(closed);
}

/** Which accounts a campaign enrols. Every criterion is optional; all given must match. */
export const segmentSchema = closedObject({
  // Accounts store codes in capitals: "id" and "idr" select what "ID" and "IDR" do. A code the
  // compliance gate does not know is refused: no account can have it.
  jurisdictions: z.array(jurisdiction).min(1).optional(),
  // Matched whatever the case, like the codes: "Card" selects accounts imported as "card".
  products: z.array(z.string().trim().min(1).max(100)).min(1).optional(),
  currency: currencyCodeSchema.optional(),
  daysPastDue: range(z.number().int().min(0).max(MAX_DAYS), (a, b) => a - b).optional(),
  balanceMinor: range(minorAmount, (a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0)).optional(),
})
  .meta(closed)
  .default({});

export type Segment = z.output<typeof segmentSchema>;

/**
 * The Prisma filter for a segment.
 * @example segmentWhere({ daysPastDue: { min: 1, max: 30 } }) // { daysPastDue: { gte: 1, lte: 30 } }
 */
export function segmentWhere(segment: Segment | null | undefined) {
  const s = segment ?? {};
  return {
    // An account that owes nothing (paid off, or in credit) is no one's to collect: enrolled,
    // its journey would end at once and count as a campaign's "paid".
    balanceMinor: {
      gt: 0n,
      ...(s.balanceMinor?.min === undefined ? {} : { gte: BigInt(s.balanceMinor.min) }),
      ...(s.balanceMinor?.max === undefined ? {} : { lte: BigInt(s.balanceMinor.max) }),
    },
    ...(s.jurisdictions ? { jurisdiction: { in: s.jurisdictions } } : {}),
    ...(s.products ? { product: { in: s.products, mode: "insensitive" as const } } : {}),
    ...(s.currency ? { currency: s.currency } : {}),
    ...(s.daysPastDue ? { daysPastDue: { gte: s.daysPastDue.min, lte: s.daysPastDue.max } } : {}),
  };
}
