import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signTagihPayload, verifyTagihSignature } from "./tagih-signature.ts";

const secret = "s3cret-s3cret-s3cret";
const body = '{"reference":"PAY-1","amountMinor":100}';
const now = 1_767_225_600;

describe("X-Tagih-Signature", () => {
  it("signs t=<seconds>,v1=<HMAC-SHA256 of '<t>.<body>'>", () => {
    const expected = createHmac("sha256", secret).update(`${now}.${body}`).digest("hex");
    expect(signTagihPayload(secret, body, now)).toBe(`t=${now},v1=${expected}`);
  });

  it("accepts its own signature within five minutes either way", () => {
    expect(verifyTagihSignature(secret, signTagihPayload(secret, body, now), body, now)).toEqual({ ok: true, timestamp: now });
    expect(verifyTagihSignature(secret, signTagihPayload(secret, body, now - 300), body, now).ok).toBe(true);
    expect(verifyTagihSignature(secret, signTagihPayload(secret, body, now + 300), body, now).ok).toBe(true);
  });

  it("verifies the bytes received as the same text signed", () => {
    const bytes = new TextEncoder().encode(`\uFEFF${body}`);
    expect(verifyTagihSignature(secret, signTagihPayload(secret, `\uFEFF${body}`, now), bytes, now).ok).toBe(true);
    expect(verifyTagihSignature(secret, signTagihPayload(secret, body, now), bytes, now).ok).toBe(false);
  });

  it("accepts any of several v1 values and surrounding spaces (secret rotation)", () => {
    const good = signTagihPayload(secret, body, now).split(",")[1]!;
    const other = signTagihPayload("old-secret", body, now).split(",")[1]!;
    expect(verifyTagihSignature(secret, `t=${now}, ${other}, v1=${good.slice(3).toUpperCase()}`, body, now).ok).toBe(true);
  });

  it.each([
    ["no header", undefined],
    ["an empty header", ""],
  ])("treats %s as missing credentials (401)", (_what, header) => {
    expect(verifyTagihSignature(secret, header, body, now)).toEqual({ ok: false, reason: "missing" });
  });

  // Credentials were presented, and they are wrong (403), not absent.
  it.each([
    ["no timestamp", `v1=${"a".repeat(64)}`],
    ["no v1", `t=${now}`],
    ["a timestamp that is not a number", `t=soon,v1=${"a".repeat(64)}`],
    ["another scheme", `sha256=${"a".repeat(64)}`],
  ])("treats a header with %s as malformed", (_what, header) => {
    expect(verifyTagihSignature(secret, header, body, now)).toEqual({ ok: false, reason: "malformed" });
  });

  it.each([
    ["another secret", signTagihPayload("not-the-secret", body, now)],
    ["another body", signTagihPayload(secret, body.replace("100", "1000"), now)],
    ["a timestamp it was not signed with", signTagihPayload(secret, body, now).replace(`t=${now}`, `t=${now + 1}`)],
    ["a truncated signature", signTagihPayload(secret, body, now).slice(0, -2)],
    ["a signature that is not hex", `t=${now},v1=${"z".repeat(64)}`],
  ])("refuses %s as forged", (_what, header) => {
    expect(verifyTagihSignature(secret, header, body, now)).toEqual({ ok: false, reason: "forged" });
  });

  it("refuses a genuine signature older or newer than five minutes as stale", () => {
    expect(verifyTagihSignature(secret, signTagihPayload(secret, body, now - 301), body, now)).toEqual({ ok: false, reason: "stale" });
    expect(verifyTagihSignature(secret, signTagihPayload(secret, body, now + 301), body, now)).toEqual({ ok: false, reason: "stale" });
  });
});
