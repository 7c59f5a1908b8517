/** Delinquency buckets by days past due, in order (prisma/routines/mis.sql `mis_bucket` is the same rule). */
export const DPD_BUCKETS = ["current", "1-30", "31-60", "61-90", "90+"] as const;
export type DpdBucket = (typeof DPD_BUCKETS)[number];

/**
 * @example dpdBucket(0) // "current"
 * @example dpdBucket(45) // "31-60"
 */
export function dpdBucket(daysPastDue: number): DpdBucket {
  if (daysPastDue <= 0) return "current";
  if (daysPastDue <= 30) return "1-30";
  if (daysPastDue <= 60) return "31-60";
  if (daysPastDue <= 90) return "61-90";
  return "90+";
}
