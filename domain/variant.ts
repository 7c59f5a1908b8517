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
  // Weights are bounded when a campaign is written; a plan stored before could sum to
  // Infinity (two weights of 1e308), which sent every account to the last variant. Such
  // weights count relative to the largest; sane ones as they are, so no account of a
  // running campaign changes variant (a page enrolled again must pick what it stored).
  const sum = variants.reduce((total, v) => total + v.weight, 0);
  const scale = Number.isFinite(sum) ? 1 : Math.max(...variants.map((v) => v.weight));
  const weights = variants.map((v) => (Number.isFinite(v.weight) && v.weight > 0 ? v.weight / scale : 0));
  let point = unitHash(`${campaignId}:${accountId}`) * weights.reduce((total, w) => total + w, 0);
  for (const [i, variant] of variants.entries()) {
    point -= weights[i]!;
    if (point < 0) return variant;
  }
  return variants.at(-1)!;
}
