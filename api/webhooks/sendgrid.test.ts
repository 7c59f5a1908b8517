import { EventWebhook } from "@sendgrid/eventwebhook";
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateSendgridKeyPair } from "../../sandbox/index.ts";
import { messageIdOf } from "../../store/sendgrid-events.ts";
import { parseSendgridBatch, sendgridPublicKey, verifySendgridSignature } from "./sendgrid.ts";

const keys = generateSendgridKeyPair();
const privateKey = createPrivateKey(keys.privateKeyPem);
const key = sendgridPublicKey(keys.publicKeyBase64);
const sdk = new EventWebhook();
const sdkKey = sdk.convertPublicKeyToECDSA(keys.publicKeyBase64);
const utf8 = (s: string) => new TextEncoder().encode(s);

const body = JSON.stringify([
  { email: "wanjiru@example.co.ke", event: "delivered", sg_event_id: "ZXZ0", sg_message_id: "abc.filter.0", timestamp: 1766000000, note: "ñ ₹ 😀" },
]);
const timestamp = "1766000000";
const signature = sign("sha256", Buffer.from(timestamp + body, "utf8"), privateKey).toString("base64");
const otherSignature = sign("sha256", Buffer.from(timestamp + body, "utf8"), createPrivateKey(generateSendgridKeyPair().privateKeyPem)).toString("base64");

describe("the signed event webhook check", () => {
  // Each case: body, signature, timestamp. Our check must agree with @sendgrid/eventwebhook.
  const cases: [string, string, string, string, boolean][] = [
    ["SendGrid's signature", body, signature, timestamp, true],
    ["another key's signature", body, otherSignature, timestamp, false],
    ["a body altered after signing", body.replace("delivered", "bounce"), signature, timestamp, false],
    ["a timestamp altered after signing", body, signature, "1766000001", false],
    ["the same JSON with other whitespace", JSON.stringify(JSON.parse(body), null, 2), signature, timestamp, false],
  ];
  it.each(cases)("%s", (_, payload, sig, ts, valid) => {
    expect(verifySendgridSignature(key, utf8(payload), sig, ts)).toBe(valid);
    expect(sdk.verifySignature(sdkKey, payload, sig, ts)).toBe(valid);
  });

  it("refuses a missing or garbage signature or timestamp without throwing", () => {
    expect(verifySendgridSignature(key, utf8(body), undefined, timestamp)).toBe(false);
    expect(verifySendgridSignature(key, utf8(body), signature, undefined)).toBe(false);
    expect(verifySendgridSignature(key, utf8(body), "", timestamp)).toBe(false);
    expect(verifySendgridSignature(key, utf8(body), "not base64 DER!!", timestamp)).toBe(false);
  });

  it("checks the exact bytes: a body that is not the UTF-8 that was signed fails", () => {
    const latin1 = Uint8Array.from(Buffer.from(body, "latin1"));
    expect(verifySendgridSignature(key, latin1, signature, timestamp)).toBe(false);
  });

  it("reads the verification key as SendGrid's console shows it (base64 DER) or as PEM, and refuses anything else", () => {
    const pem = createPublicKey(keys.privateKeyPem).export({ type: "spki", format: "pem" }).toString();
    expect(verifySendgridSignature(sendgridPublicKey(pem), utf8(body), signature, timestamp)).toBe(true);
    expect(verifySendgridSignature(sendgridPublicKey(` ${keys.publicKeyBase64}\n`), utf8(body), signature, timestamp)).toBe(true);
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "der" }).toString("base64");
    const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({ type: "spki", format: "der" }).toString("base64");
    for (const bad of ["", "not a key", rsa, p384]) expect(() => sendgridPublicKey(bad)).toThrow(/SENDGRID_WEBHOOK_PUBLIC_KEY/);
  });
});

describe("event batches", () => {
  const valid = { event: "processed", sg_event_id: "e1", sg_message_id: "m1.filter.0", timestamp: 1766000000, attemptId: "a1" };

  it("keeps every field of valid events, custom args included", () => {
    expect(parseSendgridBatch(utf8(JSON.stringify([valid])))).toEqual({ events: [valid], refused: [] });
    expect(parseSendgridBatch(utf8("[]"))).toEqual({ events: [], refused: [] });
  });

  it("names each invalid field", () => {
    const problems = (value: unknown) => {
      const batch = parseSendgridBatch(utf8(JSON.stringify(value)));
      return "problems" in batch ? batch.problems : batch.refused.flatMap((r) => r.problems);
    };
    expect(problems({})).toEqual([{ field: "(body)", reason: "must be a JSON array of events" }]);
    expect(
      problems([
        { ...valid, event: undefined },
        { ...valid, sg_event_id: 7 },
      ]),
    ).toEqual([
      { field: "0.event", reason: "is required" },
      { field: "1.sg_event_id", reason: "must be a string" },
    ]);
    expect(problems([{ ...valid, timestamp: 1766000000.5 }])).toEqual([{ field: "0.timestamp", reason: "must be whole Unix seconds" }]);
    // Past 9999-12-31T23:59:59Z: no event time, and past JavaScript's dates no date at all.
    for (const timestamp of [253402300800, 10000000000000, Number.MAX_SAFE_INTEGER]) {
      expect(problems([{ ...valid, event: "open", timestamp }])).toEqual([{ field: "0.timestamp", reason: "must be Unix seconds before the year 10000" }]);
    }
    expect(problems([{ ...valid, timestamp: 253402300799 }])).toEqual([]);
    expect(problems([{ ...valid, event: "open", sg_message_id: undefined }])).toEqual([{ field: "0.sg_message_id", reason: "is required for open events" }]);
    // An opt-out may come without its message when it names the account.
    expect(problems([{ ...valid, event: "unsubscribe", sg_message_id: undefined }])).toEqual([
      { field: "0.sg_message_id", reason: "is required for unsubscribe events" },
    ]);
    expect(problems([{ ...valid, event: "unsubscribe", sg_message_id: undefined, accountId: "x" }])).toEqual([]);
  });

  it("refuses a NUL character anywhere, which PostgreSQL cannot store, naming the field", () => {
    const batch = [valid, { ...valid, sg_event_id: "e2", category: ["ok", "bro\u0000ken"] }];
    expect(parseSendgridBatch(utf8(JSON.stringify(batch)))).toEqual({
      events: [valid],
      refused: [{ index: 1, event: batch[1], problems: [{ field: "1.category.1", reason: "must not contain NUL characters" }] }],
    });
  });

  it("refuses a lone surrogate, valid JSON that PostgreSQL cannot store, naming the field", () => {
    const batch = [valid, { ...valid, sg_event_id: "e2", email: "a\ud800@example.com" }];
    expect(parseSendgridBatch(utf8(JSON.stringify(batch)))).toEqual({
      events: [valid],
      refused: [{ index: 1, event: batch[1], problems: [{ field: "1.email", reason: "must not contain unpaired surrogates" }] }],
    });
  });

  it("applies the valid events of a batch and sets aside, one by one, those it cannot apply", () => {
    const batch = [{ ...valid, timestamp: "1766000000" }, valid, { ...valid, sg_event_id: "e3", event: "open", sg_message_id: undefined }, 7];
    const parsed = parseSendgridBatch(utf8(JSON.stringify(batch)));
    expect(parsed).toMatchObject({ events: [valid] });
    expect("refused" in parsed && parsed.refused.map((r) => [r.index, r.problems])).toEqual([
      [0, [{ field: "0.timestamp", reason: "must be a number of Unix seconds" }]],
      [2, [{ field: "2.sg_message_id", reason: "is required for open events" }]],
      [3, [{ field: "3", reason: "must be an object" }]],
    ]);
  });

  it("refuses a body that is not JSON, or not UTF-8", () => {
    expect(parseSendgridBatch(utf8("[{"))).toEqual({ problems: [{ field: "(body)", reason: "is not valid JSON" }] });
    expect(parseSendgridBatch(Uint8Array.from([0x5b, 0xff, 0x5d]))).toEqual({ problems: [{ field: "(body)", reason: "is not valid JSON" }] });
  });

  it("finds our message id in sg_message_id", () => {
    expect(messageIdOf("W86EgYT6SQKk0lRflfLRsA.filterdrecv-5645d9c87f-78xgx-1-5DBA4F8A-36.0")).toBe("W86EgYT6SQKk0lRflfLRsA");
    expect(messageIdOf("no-dot")).toBe("no-dot");
  });
});
