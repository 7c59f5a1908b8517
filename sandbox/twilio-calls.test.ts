import twilio from "twilio";
import { afterEach, describe, expect, it } from "vitest";
import { createTwilioClient } from "../vendors/twilio.ts";
import { startVendorSandbox } from "./index.ts";
import { startReceiver } from "./test-receiver.ts";
import type { Receiver, ReceivedRequest, Reply } from "./test-receiver.ts";
import type { SandboxOptions, VendorSandbox } from "./index.ts";

const accountSid = "AC" + "b2".repeat(16);
const authToken = "voice-auth-token";
const from = "+15017122661";
const to = "+6281234567890";
const events = ["initiated", "ringing", "answered", "completed"];

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

const twiml = (inner: string): Reply => ({
  contentType: "text/xml",
  body: `<?xml version="1.0" encoding="UTF-8"?><Response>${inner}</Response>`,
});

/** Our IVR: a menu, then a date of promise to pay, then goodbye. */
function ivr(req: ReceivedRequest): Reply | undefined {
  const path = req.path.split("?")[0];
  if (path === "/ivr/start") {
    return twiml(
      '<Say>Ini adalah pengingat pembayaran.</Say><Gather action="/ivr/menu?attempt=a1&amp;step=menu" numDigits="1"><Say>Tekan 2 untuk janji bayar</Say></Gather><Say>Tidak ada input</Say>',
    );
  }
  if (path === "/ivr/menu") return twiml(`<Gather action="${"/ivr/promise"}" finishOnKey="#"><Say>Masukkan tanggal</Say></Gather>`);
  if (path === "/ivr/promise") return twiml("<Say>Terima kasih</Say><Redirect>/ivr/bye</Redirect>");
  if (path === "/ivr/bye") return twiml("<Say>Sampai jumpa</Say><Hangup/>");
  return undefined;
}

async function setup(options: Partial<SandboxOptions>): Promise<{ sandbox: VendorSandbox; receiver: Receiver }> {
  const receiver = await startReceiver(ivr);
  const sandbox = await startVendorSandbox({ twilio: { accountSid, authToken }, seed: 3, ...options });
  cleanup.push(
    () => receiver.close(),
    () => sandbox.close(),
  );
  return { sandbox, receiver };
}

const client = (sandbox: VendorSandbox) => createTwilioClient({ accountSid, authToken, apiBaseUrl: sandbox.url });
const valid = (req: ReceivedRequest, url: string) => twilio.validateRequest(authToken, req.headers["x-twilio-signature"] ?? "", url, req.form());

describe("Twilio calls", () => {
  it("answers with machine detection, walks the Gather flow and posts the digits", async () => {
    const { sandbox, receiver } = await setup({ outcomes: { voice: { completed: 1, digits: ["2", "25122026#"] } } });
    const call = await client(sandbox).calls.create({
      to,
      from,
      url: `${receiver.url}/ivr/start?attempt=a1`,
      statusCallback: `${receiver.url}/voice/status`,
      statusCallbackEvent: events,
      machineDetection: "Enable",
    });
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(call.status).toBe("queued");
    expect(call.direction).toBe("outbound-api");

    await sandbox.idle();
    const statuses = receiver.on("/voice/status");
    expect(statuses.map((r) => r.form().CallStatus)).toEqual(["initiated", "ringing", "in-progress", "completed"]);
    expect(statuses.map((r) => r.form().SequenceNumber)).toEqual(["0", "1", "2", "3"]);
    const completed = statuses[3]?.form() ?? {};
    expect(Number(completed.CallDuration)).toBeGreaterThan(0);
    expect(completed).toMatchObject({ CallSid: call.sid, AnsweredBy: "human", SipResponseCode: "200" });

    const start = receiver.on("/ivr/start")[0];
    expect(start?.form()).toMatchObject({
      CallSid: call.sid,
      CallStatus: "in-progress",
      AnsweredBy: "human",
      Direction: "outbound-api",
    });
    const menu = receiver.on("/ivr/menu")[0];
    expect(menu?.path).toBe("/ivr/menu?attempt=a1&step=menu");
    expect(menu?.form()).toMatchObject({ Digits: "2", CallSid: call.sid });
    const promise = receiver.on("/ivr/promise")[0];
    expect(promise?.form()).toMatchObject({ Digits: "25122026", FinishedOnKey: "#" });
    expect(receiver.on("/ivr/bye")).toHaveLength(1);

    expect(valid(start!, `${receiver.url}/ivr/start?attempt=a1`)).toBe(true);
    expect(valid(menu!, `${receiver.url}/ivr/menu?attempt=a1&step=menu`)).toBe(true);
    expect(valid(promise!, `${receiver.url}/ivr/promise`)).toBe(true);
    for (const s of statuses) expect(valid(s, `${receiver.url}/voice/status`)).toBe(true);

    expect(sandbox.calls()[0]).toMatchObject({
      status: "completed",
      answeredBy: "human",
      digitsSent: ["2", "25122026"],
    });
    const fetched = await client(sandbox).calls(call.sid).fetch();
    expect(fetched.status).toBe("completed");
    expect(Number(fetched.duration)).toBe(Number(completed.CallDuration));
  });

  it("lets a machine answer: AnsweredBy machine_start and no keypresses", async () => {
    const { sandbox, receiver } = await setup({ outcomes: { voice: { machine: 1, digits: ["2"] } } });
    await client(sandbox).calls.create({
      to,
      from,
      url: `${receiver.url}/ivr/start`,
      machineDetection: "Enable",
      statusCallback: `${receiver.url}/voice/status`,
    });
    await sandbox.idle();
    expect(receiver.on("/ivr/start")[0]?.form().AnsweredBy).toBe("machine_start");
    expect(receiver.on("/ivr/menu")).toHaveLength(0);
    // Only the final event when StatusCallbackEvent is not given.
    expect(receiver.on("/voice/status").map((r) => r.form().CallStatus)).toEqual(["completed"]);
  });

  it("posts async AMD results to AsyncAmdStatusCallback", async () => {
    const { sandbox, receiver } = await setup({ outcomes: { voice: { machine: 1 } } });
    await client(sandbox).calls.create({
      to,
      from,
      url: `${receiver.url}/ivr/bye`,
      machineDetection: "DetectMessageEnd",
      asyncAmd: "true",
      asyncAmdStatusCallback: `${receiver.url}/voice/amd`,
    });
    await sandbox.idle();
    expect(receiver.on("/ivr/bye")[0]?.form().AnsweredBy).toBeUndefined();
    const amd = receiver.on("/voice/amd")[0];
    expect(amd?.form()).toMatchObject({ AnsweredBy: "machine_end_beep" });
    expect(valid(amd!, `${receiver.url}/voice/amd`)).toBe(true);
  });

  it("reports no-answer and busy without fetching TwiML", async () => {
    const { sandbox, receiver } = await setup({ outcomes: { voice: { "no-answer": 1 } } });
    const create = () =>
      client(sandbox).calls.create({
        to,
        from,
        url: `${receiver.url}/ivr/start`,
        statusCallback: `${receiver.url}/voice/status`,
        statusCallbackEvent: events,
      });
    await create();
    await sandbox.idle();
    sandbox.setOutcomes({ voice: { busy: 1 } });
    await create();
    await sandbox.idle();
    expect(receiver.on("/voice/status").map((r) => r.form().CallStatus)).toEqual(["initiated", "ringing", "no-answer", "initiated", "busy"]);
    expect(receiver.on("/ivr/start")).toHaveLength(0);
    expect(sandbox.calls().map((c) => c.status)).toEqual(["no-answer", "busy"]);
  });

  it("lists the call log through the SDK, newest first, filtered by To, From and Status", async () => {
    const { sandbox, receiver } = await setup({ outcomes: { voice: { "no-answer": 1 } } });
    const other = "+254712345678";
    const place = (number: string) => client(sandbox).calls.create({ to: number, from, url: `${receiver.url}/ivr/start` });
    const first = await place(to);
    await place(other);
    const second = await place(to);
    await sandbox.idle();

    const log = await client(sandbox).calls.list({ to, from, limit: 50 });
    expect(log.map((c) => [c.sid, c.to, c.from, c.status])).toEqual([
      [second.sid, to, from, "no-answer"],
      [first.sid, to, from, "no-answer"],
    ]);
    expect(log[0]!.dateCreated).toBeInstanceOf(Date);
    expect(await client(sandbox).calls.list({ to: "+6281200000000", limit: 50 })).toEqual([]);
    expect(await client(sandbox).calls.list({ status: "busy", limit: 50 })).toEqual([]);
    expect((await client(sandbox).calls.list({ limit: 50 })).map((c) => c.to)).toEqual([to, other, to]);
  });

  it("validates calls like Twilio", async () => {
    const { sandbox } = await setup({});
    await expect(client(sandbox).calls.create({ to: "12345", from, url: "https://tagih.example.com/ivr" })).rejects.toMatchObject({ status: 400, code: 21211 });
    await expect(client(sandbox).calls.create({ to, from: "", url: "https://tagih.example.com/ivr" })).rejects.toMatchObject({ status: 400, code: 21213 });
    await expect(client(sandbox).calls.create({ to, from } as never)).rejects.toMatchObject({
      status: 400,
      code: 21205,
    });
  });
});

describe("debtors paying after a call", () => {
  it("pays through the gateway after a call a person answered, never after one a machine took", async () => {
    const asked: string[] = [];
    const receiver = await startReceiver(ivr);
    cleanup.push(() => receiver.close());
    const payments = {
      url: `${receiver.url}/webhooks/payments`,
      secret: "gateway-secret",
      payer: async ({ vendorId }: { vendorId: string }) => (asked.push(vendorId), { accountId: "acct-1", amountMinor: 4200n, currency: "INR" }),
    };
    const { sandbox } = await setup({ outcomes: { voice: { completed: 1 }, payments: { after: 1 } }, payments });
    const answered = await client(sandbox).calls.create({ to, from, url: `${receiver.url}/ivr/start`, machineDetection: "Enable" });
    await sandbox.idle();
    sandbox.setOutcomes({ voice: { machine: 1 } });
    await client(sandbox).calls.create({ to, from, url: `${receiver.url}/ivr/start`, machineDetection: "Enable" });
    await sandbox.idle();
    expect(asked).toEqual([answered.sid]);
    expect(receiver.on("/webhooks/payments").map((p) => p.json())).toEqual([
      { reference: expect.stringMatching(/^SBX-/), accountId: "acct-1", amountMinor: "4200", currency: "INR", paidAt: expect.any(String) },
    ]);
  });
});
