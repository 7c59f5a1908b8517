/** An amount in minor units of one currency: money is never summed across currencies. */
export interface Amount {
  currency: string;
  amountMinor: bigint;
}

/** Rows of (key, currency, minor units as text) grouped into amounts per key, currencies sorted. */
export function amountsBy<K>(rows: { key: K; currency: string; minor: string }[]): Map<K, Amount[]> {
  const map = new Map<K, Amount[]>();
  for (const r of [...rows].sort((a, b) => a.currency.localeCompare(b.currency))) {
    const list = map.get(r.key) ?? [];
    list.push({ currency: r.currency, amountMinor: BigInt(r.minor) });
    map.set(r.key, list);
  }
  return map;
}
