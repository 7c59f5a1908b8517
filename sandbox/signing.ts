/**
 * The vendors' own signature schemes, applied to the requests the sandbox sends:
 * - Twilio: `X-Twilio-Signature`, HMAC-SHA1 of the URL plus the sorted form parameters, keyed
 *   with the auth token (twilio.getExpectedTwilioSignature).
 * - SendGrid signed event webhook: ECDSA P-256 / SHA-256 over `timestamp + rawBody`, base64 DER
 *   in `X-Twilio-Email-Event-Webhook-Signature`, the timestamp in
 *   `X-Twilio-Email-Event-Webhook-Timestamp`.
 */
import { createPrivateKey, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import twilio from "twilio";
import type { KeyObject } from "node:crypto";
import type { OutgoingRequest } from "./callbacks.ts";
import type { CallbackKind } from "./types.ts";

/**
 * A fresh key pair for signed SendGrid event webhooks.
 *
 * @example
 * const { privateKeyPem, publicKeyBase64 } = generateSendgridKeyPair();
 * // privateKeyPem → startVendorSandbox({ sendgrid: { privateKeyPem } })
 * // publicKeyBase64 → what our webhook verifies with (SendGrid shows this form in its console)
 */
export function generateSendgridKeyPair(): { privateKeyPem: string; publicKeyBase64: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyBase64: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
  };
}

/** A form-encoded POST signed the way Twilio signs its webhooks. */
export function twilioRequest(authToken: string, kind: CallbackKind, resourceId: string, url: string, params: Record<string, string>): OutgoingRequest {
  const signature = twilio.getExpectedTwilioSignature(authToken, url, params);
  const token = randomUUID();
  return {
    kind,
    resourceId,
    url,
    body: new URLSearchParams(params).toString(),
    headers: () => ({
      "content-type": "application/x-www-form-urlencoded",
      "user-agent": "TwilioProxy/1.1",
      "x-twilio-signature": signature,
      "i-twilio-idempotency-token": token,
    }),
  };
}

/** A JSON POST of SendGrid events, signed at each attempt when a private key is given. */
export function sendgridRequest(privateKeyPem: string | undefined, resourceId: string, url: string, events: object[]): OutgoingRequest {
  const body = JSON.stringify(events);
  const key: KeyObject | undefined = privateKeyPem ? createPrivateKey(privateKeyPem) : undefined;
  return {
    kind: "sendgrid-events",
    resourceId,
    url,
    body,
    headers: () => {
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": "SendGrid Event API",
      };
      if (key) {
        const timestamp = String(Math.floor(Date.now() / 1000));
        headers["x-twilio-email-event-webhook-timestamp"] = timestamp;
        headers["x-twilio-email-event-webhook-signature"] = sign("sha256", Buffer.from(timestamp + body, "utf8"), key).toString("base64");
      }
      return headers;
    },
  };
}
