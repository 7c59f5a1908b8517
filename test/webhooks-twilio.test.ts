import { randomBytes, randomUUID } from "node:crypto";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../runtime/logger.ts";
import { accountFixture, api, eventually, seedAttempt, startTestStack } from "./stack.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let authToken: string;
beforeAll(async () => {
  stack = await startTestStack({ TWILIO_ACCOUNT_SID: `AC${"1".repeat(32)}`, TWILIO_AUTH_TOKEN: (authToken = randomBytes(16).toString("hex")) });
});
afterAll(async () => {
  await stack?.stop();
});

const statusUrl = () => `${stack.config.publicBaseUrl}/v1/webhooks/twilio/status`;

/** Posts a status callback signed the way Twilio signs it (or with a given signature); a list is a repeated parameter. */
async function postStatus(
  params: Record<string, string | string[]>,
  signature: string | null = twilio.getExpectedTwilioSignature(authToken, statusUrl(), params),
) {
  const response = await fetch(`${stack.apiUrl}/v1/webhooks/twilio/status`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(signature === null ? {} : { "x-twilio-signature": signature }) },
    body: new URLSearchParams(Object.entries(params).flatMap(([key, values]) => [values].flat().map((value): [string, string] => [key, value]))).toString(),
  });
  return { status: response.status, body: await response.text(), contentType: response.headers.get("content-type") };
}

const newSid = () => `SM${randomBytes(16).toString("hex")}`;
const statusParams = (sid: string, status: string) => ({
  MessageSid: sid,
  SmsSid: sid,
  AccountSid: `AC${"1".repeat(32)}`,
  MessageStatus: status,
  SmsStatus: status,
  ApiVersion: "2010-04-01",
});
const callbacksFor = (sid: string) => stack.db.callback.count({ where: { vendor: "twilio", eventId: { startsWith: sid } } });

describe("Twilio status callbacks", () => {
  it("refuses a forged signature with 403 and stores nothing", async () => {
    const sid = newSid();
    const attempt = await seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "queued" });
    const forged = twilio.getExpectedTwilioSignature("not-the-token", statusUrl(), statusParams(sid, "delivered"));
    const response = await postStatus(statusParams(sid, "delivered"), forged);
    expect(response.status).toBe(403);
    expect(response.contentType).toContain("application/problem+json");
    expect(await callbacksFor(sid)).toBe(0);
    expect((await stack.db.contactAttempt.findUniqueOrThrow({ where: { id: attempt.id } })).status).toBe("queued");
  });

  it("refuses a missing signature with 403 and stores nothing", async () => {
    const sid = newSid();
    await seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "queued" });
    expect((await postStatus(statusParams(sid, "delivered"), null)).status).toBe(403);
    expect(await callbacksFor(sid)).toBe(0);
  });

  it("refuses a body altered after signing", async () => {
    const sid = newSid();
    await seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "queued" });
    const signature = twilio.getExpectedTwilioSignature(authToken, statusUrl(), statusParams(sid, "failed"));
    expect((await postStatus(statusParams(sid, "delivered"), signature)).status).toBe(403);
  });

  it("answers a signed but malformed callback with 400 naming the field", async () => {
    const response = await postStatus({ MessageSid: "not-a-sid", MessageStatus: "delivered", AccountSid: `AC${"1".repeat(32)}` });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).errors).toEqual([{ field: "MessageSid", reason: "must be a Twilio message SID" }]);
  });

  it("applies a duplicate callback once", async () => {
    const sid = newSid();
    const attempt = await seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "queued" });
    expect((await postStatus(statusParams(sid, "delivered"))).status).toBe(204);
    const afterFirst = await stack.db.contactAttempt.findUniqueOrThrow({ where: { id: attempt.id } });
    expect((await postStatus(statusParams(sid, "delivered"))).status).toBe(204);
    const afterSecond = await stack.db.contactAttempt.findUniqueOrThrow({ where: { id: attempt.id } });
    expect(await callbacksFor(sid)).toBe(1);
    expect(afterSecond.status).toBe("delivered");
    expect(afterSecond.updatedAt).toEqual(afterFirst.updatedAt);
  });

  // WhatsApp: the handset's read receipt is proof of delivery, whatever Twilio concluded before it.
  it("moves an attempt reported undelivered to read on a read receipt, without the failure's error code", async () => {
    const sid = newSid();
    const attempt = await seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "sent" });
    await postStatus({ ...statusParams(sid, "undelivered"), ErrorCode: "30006" });
    expect(await stack.db.contactAttempt.findUniqueOrThrow({ where: { id: attempt.id } })).toMatchObject({ status: "undelivered", errorCode: "30006" });
    await postStatus(statusParams(sid, "read"));
    expect(await stack.db.contactAttempt.findUniqueOrThrow({ where: { id: attempt.id } })).toMatchObject({ status: "read", errorCode: null });
  });

  it("never lets a late 'sent' overwrite 'delivered'", async () => {
    const sid = newSid();
    const attempt = await seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "queued" });
    await postStatus(statusParams(sid, "delivered"));
    await postStatus(statusParams(sid, "sent"));
    expect((await stack.db.contactAttempt.findUniqueOrThrow({ where: { id: attempt.id } })).status).toBe("delivered");
    expect(await callbacksFor(sid)).toBe(2);
  });

  it("keeps a callback that arrives before its message SID is known and applies it once the SID is stored", async () => {
    const sid = newSid();
    expect((await postStatus(statusParams(sid, "delivered"))).status).toBe(204);
    const stored = await stack.db.callback.findFirstOrThrow({ where: { eventId: `${sid}:delivered` } });
    expect(stored.appliedAt).toBeNull();
    const attempt = await seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "queued" });
    const { applyPendingTwilioStatuses } = await import("../store/twilio-status.ts");
    expect((await applyPendingTwilioStatuses(stack.db, sid))?.status).toBe("delivered");
    expect((await stack.db.contactAttempt.findUniqueOrThrow({ where: { id: attempt.id } })).status).toBe("delivered");
  });

  // A process that stops after storing an event as pending leaves it there although the send
  // has stored the SID (and looked for pending events) meanwhile: the seeded attempt below.
  it("applies a redelivered event left pending once its attempt knows the SID, and owes its outcome signal", async () => {
    const sid = newSid();
    expect((await postStatus(statusParams(sid, "delivered"))).status).toBe(204);
    const attempt = await seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "sent" });
    expect((await postStatus(statusParams(sid, "delivered"))).status).toBe(204);
    expect((await stack.db.contactAttempt.findUniqueOrThrow({ where: { id: attempt.id } })).status).toBe("delivered");
    const stored = await stack.db.callback.findFirstOrThrow({ where: { eventId: `${sid}:delivered` } });
    expect(stored.appliedAt).not.toBeNull();
    expect(stored.signal).toMatchObject({ attemptId: attempt.id, status: "delivered", outcome: "delivered" });
    expect(await callbacksFor(sid)).toBe(1);
  });

  it("applies status events a stopped process left pending on the outcome sweep, messages and calls alike", async () => {
    const [message, call] = [newSid(), `CA${randomBytes(16).toString("hex")}`];
    const longAgo = new Date(Date.now() - 60_000);
    const stranded = await Promise.all([
      stack.db.callback.create({
        data: {
          vendor: "twilio",
          eventId: `${message}:undelivered`,
          kind: "message-status",
          payload: { ...statusParams(message, "undelivered"), ErrorCode: "30003" },
          receivedAt: longAgo,
        },
      }),
      stack.db.callback.create({
        data: { vendor: "twilio", eventId: `${call}:busy`, kind: "call-status", payload: { CallSid: call, CallStatus: "busy" }, receivedAt: longAgo },
      }),
    ]);
    // Pending and recent: still the storing request's to apply.
    const recentSid = newSid();
    const recent = await stack.db.callback.create({
      data: { vendor: "twilio", eventId: `${recentSid}:delivered`, kind: "message-status", payload: statusParams(recentSid, "delivered") },
    });
    const attempts = await Promise.all([
      seedAttempt(stack.db, { vendorId: message, channel: "sms", status: "sent" }),
      seedAttempt(stack.db, { vendorId: call, channel: "voice", status: "queued" }),
      seedAttempt(stack.db, { vendorId: recentSid, channel: "sms", status: "sent" }),
    ]);
    const { createOutcomeSignaller } = await import("../api/outcome-signals.ts");
    await createOutcomeSignaller({ db: stack.db, temporal: stack.temporal, logger: createLogger("warn") }).sweep();

    const moved = await stack.db.contactAttempt.findMany({ where: { id: { in: attempts.map((a) => a.id) } } });
    expect(Object.fromEntries(moved.map((a) => [a.vendorId, [a.status, a.errorCode]]))).toEqual({
      [message]: ["undelivered", "30003"],
      [call]: ["failed", "busy"],
      [recentSid]: ["sent", null],
    });
    const after = await stack.db.callback.findMany({ where: { id: { in: stranded.map((c) => c.id) } } });
    // Applied, and (their workflows do not exist: Temporal answers so) the owed signals count as sent.
    expect(after.map((c) => [c.appliedAt !== null, c.signal !== null, c.signalledAt !== null])).toEqual([
      [true, true, true],
      [true, true, true],
    ]);
    expect((await stack.db.callback.findUniqueOrThrow({ where: { id: recent.id } })).appliedAt).toBeNull();
  });

  it("stores a concurrent burst of duplicated, reordered callbacks once each and moves every attempt to its latest status", async () => {
    const sids = Array.from({ length: 40 }, newSid);
    const attempts = await Promise.all(sids.map((sid) => seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "queued" })));
    // Each message: sent and delivered, half of them delivered first, every event twice.
    const events = sids.flatMap((sid, i) =>
      (i % 2 ? ["delivered", "sent"] : ["sent", "delivered"]).flatMap((status) => [statusParams(sid, status), statusParams(sid, status)]),
    );
    const answers = await Promise.all(events.map((params) => postStatus(params)));
    expect(answers.map((a) => a.status)).toEqual(events.map(() => 204));

    const rows = await stack.db.callback.findMany({ where: { vendor: "twilio", eventId: { in: sids.flatMap((sid) => [`${sid}:sent`, `${sid}:delivered`]) } } });
    expect(rows).toHaveLength(2 * sids.length);
    expect(rows.every((r) => r.appliedAt !== null)).toBe(true);
    const stored = await stack.db.contactAttempt.findMany({ where: { id: { in: attempts.map((a) => a.id) } } });
    expect(stored.map((a) => a.status)).toEqual(stored.map(() => "delivered"));
    // Each delivery owes its workflow exactly one outcome signal; "sent" owes none.
    const owing = rows.filter((r) => r.signal !== null);
    expect(owing.map((r) => r.eventId).sort()).toEqual(sids.map((sid) => `${sid}:delivered`).sort());
    expect(owing[0]!.signal).toMatchObject({ status: "delivered", outcome: "delivered", workflowId: expect.stringMatching(/^wf-/) });
    // These workflows do not exist: Temporal answers so and the signal counts as done.
    await eventually(
      async () => ((await stack.db.callback.count({ where: { id: { in: owing.map((r) => r.id) }, signalledAt: null } })) === 0 ? true : undefined),
      "outcome signals marked sent",
    );
  });

  it("owes one outcome signal for copies of a delivery that arrive together", async () => {
    const sid = newSid();
    await seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "queued" });
    const { createMessageStatusIntake } = await import("../store/message-status-intake.ts");
    const intake = createMessageStatusIntake(stack.db, stack.sql);
    const params = statusParams(sid, "delivered");
    // Submitted in one turn of the event loop: the copies share one statement.
    const results = await Promise.all([1, 2, 3].map(() => intake.submit(params, params)));
    expect(new Set(results.map((r) => r.callbackId)).size).toBe(1);
    expect(results.filter((r) => r.signal !== undefined)).toHaveLength(1);
    expect(results.filter((r) => r.stored)).toHaveLength(1);
  });

  it("sends a signal still owed from earlier on the next sweep, and leaves recent ones to the process that stored them", async () => {
    const signal = { workflowId: `wf-${randomUUID()}`, attemptId: randomUUID(), status: "delivered", outcome: "delivered" };
    const old = await stack.db.callback.create({
      data: { vendor: "twilio", eventId: `${newSid()}:delivered`, kind: "message-status", payload: {}, signal, receivedAt: new Date(Date.now() - 60_000) },
    });
    const recent = await stack.db.callback.create({
      data: { vendor: "twilio", eventId: `${newSid()}:delivered`, kind: "message-status", payload: {}, signal },
    });
    const { createOutcomeSignaller } = await import("../api/outcome-signals.ts");
    const signaller = createOutcomeSignaller({ db: stack.db, temporal: stack.temporal, logger: createLogger("warn") });
    expect(await signaller.sweep()).toBeGreaterThanOrEqual(1);
    expect((await stack.db.callback.findUniqueOrThrow({ where: { id: old.id } })).signalledAt).not.toBeNull();
    expect((await stack.db.callback.findUniqueOrThrow({ where: { id: recent.id } })).signalledAt).toBeNull();
  });

  it("refuses a field with a NUL character with 400 without failing the callbacks batched with it", async () => {
    const [bad, good] = [newSid(), newSid()];
    await seedAttempt(stack.db, { vendorId: bad, channel: "sms", status: "queued" });
    const attempt = await seedAttempt(stack.db, { vendorId: good, channel: "sms", status: "queued" });
    const [refused, accepted] = await Promise.all([
      postStatus({ ...statusParams(bad, "sent"), ErrorMessage: "broken\u0000text" }),
      postStatus(statusParams(good, "sent")),
    ]);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ errors: [{ field: "ErrorMessage", reason: "must not contain NUL characters" }] });
    expect(accepted.status).toBe(204);
    expect(await callbacksFor(bad)).toBe(0);
    expect((await stack.db.contactAttempt.findUniqueOrThrow({ where: { id: attempt.id } })).status).toBe("sent");
  });

  // Event ids are built from these fields: one past PostgreSQL's index entry limit (~2.7 kB)
  // failed the statement, and with it every callback batched alongside.
  it.each([
    ["MessageStatus", "3,000 characters", "x".repeat(3_000)],
    ["MessageStatus", "33 letters", "x".repeat(33)],
    ["MessageStatus", "two words", "deliv ered"],
    ["AccountSid", "8,000 characters", "A".repeat(8_000)],
    ["ErrorCode", "8,000 digits", "3".repeat(8_000)],
  ])("refuses %s of %s with 400 naming it, storing nothing and failing none of its batch", async (field, _what, value) => {
    const [bad, good] = [newSid(), newSid()];
    await seedAttempt(stack.db, { vendorId: bad, channel: "sms", status: "queued" });
    const attempt = await seedAttempt(stack.db, { vendorId: good, channel: "sms", status: "queued" });
    const [refused, accepted] = await Promise.all([postStatus({ ...statusParams(bad, "sent"), [field]: value }), postStatus(statusParams(good, "sent"))]);
    expect(refused.status).toBe(400);
    expect(refused.contentType).toContain("application/problem+json");
    expect(JSON.parse(refused.body).errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect(await callbacksFor(bad)).toBe(0);
    expect(accepted.status).toBe(204);
    expect((await stack.db.contactAttempt.findUniqueOrThrow({ where: { id: attempt.id } })).status).toBe("sent");
  });

  it("stores a status it does not know, such as __proto__, ignores it, and fails none of the callbacks batched with it", async () => {
    const sids = Array.from({ length: 40 }, newSid);
    const attempts = await Promise.all(sids.map((sid) => seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "queued" })));
    const [odd] = sids;
    const events = sids.map((sid) => statusParams(sid, sid === odd ? "__proto__" : "delivered"));
    const answers = await Promise.all(events.map((params) => postStatus(params)));
    expect(answers.map((a) => a.status)).toEqual(events.map(() => 204));
    const stored = await stack.db.callback.findUniqueOrThrow({ where: { vendor_eventId: { vendor: "twilio", eventId: `${odd}:__proto__` } } });
    expect(stored.appliedAt).not.toBeNull();
    expect(stored.signal).toBeNull();
    const statuses = await stack.db.contactAttempt.findMany({ where: { id: { in: attempts.map((a) => a.id) } } });
    expect(statuses.map((a) => [a.vendorId, a.status]).sort()).toEqual(sids.map((sid) => [sid, sid === odd ? "queued" : "delivered"]).sort());
  });

  it("fails only the event a statement could not store, not the callbacks batched with it", async () => {
    const sids = Array.from({ length: 9 }, newSid);
    await Promise.all(sids.map((sid) => seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "queued" })));
    const { createMessageStatusIntake } = await import("../store/message-status-intake.ts");
    const intake = createMessageStatusIntake(stack.db, stack.sql);
    // Past the request schema, as a future field or a stored payload might be: an event id
    // over PostgreSQL's index entry limit (random, so that compression cannot bring it under).
    const tooLong = randomBytes(3_000).toString("base64url");
    const events = sids.map((sid, i) => statusParams(sid, i === 4 ? tooLong : "delivered"));
    // Submitted in one turn of the event loop: one statement, unless it fails.
    const results = await Promise.allSettled(events.map((params) => intake.submit(params, params)));
    expect(results.map((r) => r.status)).toEqual(sids.map((_, i) => (i === 4 ? "rejected" : "fulfilled")));
    const { reason } = results[4] as PromiseRejectedResult;
    expect(reason.message).toBe(`the Twilio status callback of ${sids[4]} failed`);
    expect(String(reason.cause)).toMatch(/index row size/);
    expect(await stack.db.callback.count({ where: { vendor: "twilio", eventId: { in: sids.map((sid) => `${sid}:delivered`) } } })).toBe(8);
    expect(await callbacksFor(sids[4]!)).toBe(0);
  });

  it("checks the signature against PUBLIC_BASE_URL, as Twilio signs the public address it called", async () => {
    const sid = newSid();
    await seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "queued" });
    const localSignature = twilio.getExpectedTwilioSignature(authToken, `${stack.apiUrl}/v1/webhooks/twilio/status`, statusParams(sid, "sent"));
    expect(stack.apiUrl).not.toBe(stack.config.publicBaseUrl);
    expect((await postStatus(statusParams(sid, "sent"), localSignature)).status).toBe(403);
  });

  it("accepts a form that repeats a parameter, signed over every value as Twilio signs it", async () => {
    const sid = newSid();
    const attempt = await seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "queued" });
    const response = await postStatus({ ...statusParams(sid, "delivered"), AddOns: ["b", "a"] });
    expect(response.status).toBe(204);
    expect((await stack.db.contactAttempt.findUniqueOrThrow({ where: { id: attempt.id } })).status).toBe("delivered");
  });
});

describe("a signed form repeating a field the webhook reads", () => {
  it("is refused with 400 naming it, and nothing is stored: the signature does not cover which value comes first", async () => {
    const sid = newSid();
    const attempt = await seedAttempt(stack.db, { vendorId: sid, channel: "sms", status: "queued" });
    const response = await postStatus({ ...statusParams(sid, "sent"), MessageStatus: ["sent", "delivered"] });
    expect(response.status).toBe(400);
    // In plain words, not the validator's "Invalid input: expected string, received array".
    expect(JSON.parse(response.body).errors).toEqual([{ field: "MessageStatus", reason: "must be a string" }]);
    expect(await stack.db.callback.count({ where: { vendor: "twilio", eventId: { startsWith: sid } } })).toBe(0);
    expect((await stack.db.contactAttempt.findUniqueOrThrow({ where: { id: attempt.id } })).status).toBe("queued");
  });

  it("names a field left out as required", async () => {
    const sid = newSid();
    const params: Record<string, string> = statusParams(sid, "sent");
    delete params.MessageStatus;
    const response = await postStatus(params);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).errors).toEqual([{ field: "MessageStatus", reason: "is required" }]);
    expect(await callbacksFor(sid)).toBe(0);
  });
});

describe("request validation", () => {
  it("answers malformed JSON with a 400 problem", async () => {
    const response = await api(stack.apiUrl, "POST", "/v1/accounts", '{"accounts": [');
    expect(response.status).toBe(400);
    expect(response.contentType).toContain("application/problem+json");
    expect(response.body).toMatchObject({ status: 400, title: "Invalid request" });
    expect(response.body.errors[0].field).toBe("(body)");
  });

  // In the product's words ("is required", "must be a number"), not the validator's ("Invalid input: expected string, received undefined").
  it("refuses malformed accounts with 400 naming each field and why in plain words, storing nothing", async () => {
    const good = accountFixture();
    const malformed = {
      ...accountFixture({ email: "budi@", daysPastDue: "12", name: undefined, favouriteColour: "blue" }),
      externalId: `BAD-${good.externalId}`,
    };
    const refused = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [good, malformed] });
    expect(refused.status).toBe(400);
    expect(refused.contentType).toBe("application/problem+json");
    expect(refused.body.errors).toEqual([
      { field: "accounts.1.name", reason: "is required" },
      { field: "accounts.1.email", reason: "must be an email address" },
      { field: "accounts.1.daysPastDue", reason: "must be a number" },
      { field: "accounts.1", reason: "has a field it does not take: favouriteColour" },
    ]);
    for (const [body, errors] of [
      [{ accounts: [] }, [{ field: "accounts", reason: "must have at least 1 item" }]],
      [{}, [{ field: "accounts", reason: "is required" }]],
      [
        { accounts: [{ ...good, externalId: "", consent: { whatsapp: "yes" } }] },
        [
          { field: "accounts.0.externalId", reason: "must be at least 1 character" },
          { field: "accounts.0.consent.whatsapp", reason: "must be true or false" },
        ],
      ],
      [
        { accounts: [{ ...good, name: "x".repeat(201), daysPastDue: -1 }] },
        [
          { field: "accounts.0.name", reason: "must be at most 200 characters" },
          { field: "accounts.0.daysPastDue", reason: "must be at least 0" },
        ],
      ],
    ] as const) {
      const answer = await api(stack.apiUrl, "POST", "/v1/accounts", body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.errors, JSON.stringify(body)).toEqual(errors);
    }
    expect(await stack.db.account.count({ where: { externalId: { in: [good.externalId, malformed.externalId] } } })).toBe(0);
  });

  it("names every invalid field and stores none of the batch", async () => {
    const good = accountFixture();
    const response = await api(stack.apiUrl, "POST", "/v1/accounts", {
      accounts: [good, accountFixture({ phone: "12", currency: "RPH" }), { ...accountFixture(), timeZone: "Mars/Olympus" }],
    });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(["accounts.1.currency", "accounts.1.phone", "accounts.2.timeZone"]);
    expect(await stack.db.account.count({ where: { externalId: good.externalId } })).toBe(0);
  });

  it("refuses a NUL character (which PostgreSQL cannot store) with 400 naming the field, and stores none of the batch", async () => {
    const good = accountFixture();
    const response = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [good, accountFixture({ name: "Budi\u0000Santoso" })] });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: "accounts.1.name", reason: "must not contain NUL characters" }]);
    expect(await stack.db.account.count({ where: { externalId: good.externalId } })).toBe(0);
    // Only a NUL counts: an escaped backslash followed by "u0000" is ordinary text.
    const literal = accountFixture({ name: "C:\\u0000 Budi" });
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [literal] })).status).toBe(200);
    expect((await stack.db.account.findUniqueOrThrow({ where: { externalId: literal.externalId } })).name).toBe("C:\\u0000 Budi");
  });

  it("refuses the same external id twice in one batch", async () => {
    const a = accountFixture();
    const response = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [a, { ...a }] });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: "accounts.1.externalId", reason: "appears twice in this batch" }]);
  });

  it("upserts by external id", async () => {
    const a = accountFixture();
    expect((await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [a] })).body).toMatchObject({ created: 1, updated: 0 });
    const again = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [{ ...a, balanceMinor: "9000000000000000001", daysPastDue: 31 }] });
    expect(again.body).toMatchObject({ created: 0, updated: 1 });
    const stored = await stack.db.account.findUniqueOrThrow({ where: { externalId: a.externalId } });
    expect(stored).toMatchObject({ balanceMinor: 9000000000000000001n, daysPastDue: 31, phone: a.phone });
  });

  it("names invalid strategy and template fields of a campaign", async () => {
    const response = await api(stack.apiUrl, "POST", "/v1/campaigns", {
      name: "",
      strategy: { steps: [{ id: "s1", kind: "contact", channel: "pigeon", template: "reminder" }] },
      templates: [{ name: "reminder", channel: "sms", locale: "en", body: "Hi {{name" }],
    });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(["name", "strategy.steps.0.channel", "templates.0.body"]);
  });

  it("answers unknown campaigns with 404 and bad ids with 400", async () => {
    expect((await api(stack.apiUrl, "GET", `/v1/campaigns/${randomUUID()}`)).status).toBe(404);
    const bad = await api(stack.apiUrl, "GET", "/v1/campaigns/nope/summary");
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe("param.id");
  });

  it("refuses bodies over the configured size with 413", async () => {
    const response = await api(stack.apiUrl, "POST", "/v1/accounts", { accounts: [accountFixture({ name: "x".repeat(stack.config.maxBodyBytes) })] });
    expect(response.status).toBe(413);
  });
});
