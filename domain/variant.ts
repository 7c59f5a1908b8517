import type { Variant } from "./strategy.ts";

/**
 * FNV-1a over the text, as a fraction in [0, 1): stable across processes and versions, so an
 * account keeps its variant for the life of the campaign.
 */
function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 2 ** 32;
}

/**
 * The variant an account gets in a campaign, by weight, from a hash of both ids.
 * @example assignVariant("c1", "a1", [{ name: "champion", weight: 80, strategy }, { name: "holdout", weight: 20, holdout: true }]).name
 */
export function assignVariant(campaignId: string, accountId: string, variants: Variant[]): Variant {
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  let point = unitHash(`${campaignId}:${accountId}`) * total;
  for (const variant of variants) {
    point -= variant.weight;
    if (point < 0) return variant;
  }
  return variants.at(-1)!;
}
