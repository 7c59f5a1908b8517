import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { unsubscribeUrl, verifyUnsubscribeToken } from "./unsubscribe.ts";

const secret = "a-secret-only-we-know";
const accountId = randomUUID();
const tokenOf = (url: string) => url.split("/").pop()!;

describe("unsubscribe links", () => {
  it("name the account and channel on our API, and verify", () => {
    const url = unsubscribeUrl("https://tagih.example.com", secret, accountId);
    expect(url).toMatch(new RegExp(`^https://tagih\\.example\\.com/v1/unsubscribe/${accountId}\\.email\\.[A-Za-z0-9_-]{43}$`));
    expect(verifyUnsubscribeToken(secret, tokenOf(url))).toEqual({ accountId, channel: "email" });
    expect(verifyUnsubscribeToken(secret, tokenOf(unsubscribeUrl("", secret, accountId, "sms")))).toEqual({ accountId, channel: "sms" });
  });

  it("cannot be forged for another account or channel, or without the secret", () => {
    const token = tokenOf(unsubscribeUrl("", secret, accountId));
    const [, , mac] = token.split(".");
    expect(verifyUnsubscribeToken(secret, `${randomUUID()}.email.${mac}`)).toBeUndefined();
    expect(verifyUnsubscribeToken(secret, `${accountId}.sms.${mac}`)).toBeUndefined();
    expect(verifyUnsubscribeToken("another-secret", token)).toBeUndefined();
    expect(
      verifyUnsubscribeToken(
        secret,
        token.replace(/.$/, (c) => (c === "A" ? "B" : "A")),
      ),
    ).toBeUndefined();
  });

  it("refuses malformed tokens", () => {
    const token = tokenOf(unsubscribeUrl("", secret, accountId));
    for (const bad of ["", "x", `${token}x`, token.slice(0, -1), token.toUpperCase(), `${accountId}.fax.${token.split(".")[2]}`]) {
      expect(verifyUnsubscribeToken(secret, bad)).toBeUndefined();
    }
  });
});
