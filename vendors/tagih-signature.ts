// The `X-Tagih-Signature` scheme shared with the payment gateway and collection agencies,
// both ways: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. The timestamp is
// signed with the body so a captured request cannot be replayed after the tolerance.
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "x-tagih-signature";
/** Signatures older or newer than this are refused (clock skew plus delivery delay). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * Signs a raw body at a given instant.
 * @example signTagihPayload("secret", '{"a":1}', 1767225600) // "t=1767225600,v1=5f…"
 */
export function signTagihPayload(secret: string, rawBody: string, unixSeconds = Math.floor(Date.now() / 1000)): string {
  return `t=${unixSeconds},v1=${hmacHex(secret, unixSeconds, rawBody)}`;
}

export type SignatureCheck =
  /** Signed with the secret, within the tolerance. */
  | { ok: true; timestamp: number }
  /** No header: the caller presented no credentials (401). */
  | { ok: false; reason: "missing" }
  /** A header that carries no `t=` and `v1=`, one that is wrong, or one outside the tolerance (403). */
  | { ok: false; reason: "malformed" | "forged" | "stale" };

/**
 * Checks a signature header against the raw body in constant time. Several `v1=` values
 * are accepted (a sender rotating its secret signs with both). Give the body as the bytes
 * received: decoding first would drop a byte order mark the sender signed.
 * @example verifyTagihSignature("secret", req.header("x-tagih-signature"), rawBody)
 */
export function verifyTagihSignature(
  secret: string,
  header: string | undefined | null,
  rawBody: string | Uint8Array,
  nowSeconds = Math.floor(Date.now() / 1000),
): SignatureCheck {
  const parsed = parseHeader(header);
  if (!parsed) return { ok: false, reason: header?.trim() ? "malformed" : "missing" };
  // Checked whatever the timestamp, so a stale and a forged request take the same time.
  const expected = Buffer.from(hmacHex(secret, parsed.timestamp, rawBody), "hex");
  let matched = false;
  for (const candidate of parsed.signatures) {
    const given = Buffer.from(/^[0-9a-fA-F]{64}$/.test(candidate) ? candidate : "", "hex");
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) return { ok: false, reason: "forged" };
  if (Math.abs(nowSeconds - parsed.timestamp) > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: "stale" };
  return { ok: true, timestamp: parsed.timestamp };
}

function hmacHex(secret: string, unixSeconds: number, rawBody: string | Uint8Array): string {
  return createHmac("sha256", secret).update(`${unixSeconds}.`).update(rawBody).digest("hex");
}

function parseHeader(header: string | undefined | null): { timestamp: number; signatures: string[] } | undefined {
  if (!header) return undefined;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === "v1" && value) signatures.push(value);
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures };
}
