import { z } from "zod";
import { currencyCodeSchema } from "./money.ts";

// Amounts stay decimal strings so the segment is stored as JSON exactly.
const minorAmount = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/, "must be a non-negative integer")]).transform(String);

/** Which accounts a campaign enrols. Every criterion is optional; all given must match. */
export const segmentSchema = z
  .object({
    // Accounts store codes in capitals: "id" and "idr" select what "ID" and "IDR" do.
    jurisdictions: z.array(z.string().trim().toUpperCase().min(2)).min(1).optional(),
    products: z.array(z.string().min(1)).min(1).optional(),
    currency: currencyCodeSchema.optional(),
    daysPastDue: z.object({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() }).optional(),
    balanceMinor: z.object({ min: minorAmount.optional(), max: minorAmount.optional() }).optional(),
  })
  .strict()
  .default({});

export type Segment = z.output<typeof segmentSchema>;

/**
 * The Prisma filter for a segment.
 * @example segmentWhere({ daysPastDue: { min: 1, max: 30 } }) // { daysPastDue: { gte: 1, lte: 30 } }
 */
export function segmentWhere(segment: Segment | null | undefined) {
  const s = segment ?? {};
  return {
    ...(s.jurisdictions ? { jurisdiction: { in: s.jurisdictions } } : {}),
    ...(s.products ? { product: { in: s.products } } : {}),
    ...(s.currency ? { currency: s.currency } : {}),
    ...(s.daysPastDue ? { daysPastDue: { gte: s.daysPastDue.min, lte: s.daysPastDue.max } } : {}),
    ...(s.balanceMinor
      ? {
          balanceMinor: {
            gte: s.balanceMinor.min === undefined ? undefined : BigInt(s.balanceMinor.min),
            lte: s.balanceMinor.max === undefined ? undefined : BigInt(s.balanceMinor.max),
          },
        }
      : {}),
  };
}
