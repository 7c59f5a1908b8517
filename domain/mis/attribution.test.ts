import { describe, expect, it } from "vitest";
import { attributionSchema } from "../attribution.ts";
import { lastTouch, linearShares, type CapturedPromise, type Touch } from "./attribution.ts";

const day = (d: number) => Date.parse("2026-12-01T00:00:00Z") + d * 86_400_000;
const settings = attributionSchema.parse({});
const sms: Touch = { attemptId: "sms", channel: "sms", at: day(0), eligible: true };
const email: Touch = { attemptId: "email", channel: "email", at: day(2), eligible: true };
const unopened: Touch = { attemptId: "unopened", channel: "email", at: day(3), eligible: false };
const call: Touch = { attemptId: "call", channel: "voice", at: day(1), eligible: true };

describe("last eligible touch", () => {
  it.each([
    { what: "the latest eligible touch whose window holds the payment", paid: day(4), touches: [sms, email, unopened], expected: "email" },
    { what: "an email's 5-day window has closed, the SMS's 7 days have not", paid: day(7.5), touches: [{ ...sms, at: day(1) }, email], expected: "sms" },
    { what: "nothing within a window: unattributed", paid: day(8), touches: [sms, email], expected: null },
    { what: "a touch after the payment does not count", paid: day(1), touches: [sms, email], expected: "sms" },
    { what: "an ineligible touch never counts", paid: day(3.5), touches: [unopened], expected: null },
  ])("$what", ({ paid, touches, expected }) => {
    expect(lastTouch(paid, touches, [], settings)).toBe(expected);
  });

  it("honours a campaign's windows", () => {
    const narrow = attributionSchema.parse({ windowDays: { sms: 1 } });
    expect(lastTouch(day(2), [sms], [], narrow)).toBeNull();
    expect(narrow.windowDays.email).toBe(5);
  });

  it("credits a payment under a promise to the touch that captured it, until due date plus grace", () => {
    const promise: CapturedPromise = { attemptId: "call", createdAt: day(1), brokenAt: day(20) };
    expect(lastTouch(day(4), [sms, email, call], [promise], settings)).toBe("call");
    // Past the call's own 7-day window, still inside the promise's.
    expect(lastTouch(day(15), [sms, email, call], [promise], settings)).toBe("call");
    expect(lastTouch(day(21), [sms, email, call], [promise], settings)).toBeNull();
  });
});

describe("linear view", () => {
  it("shares a payment equally between the touches whose windows hold it", () => {
    expect(Object.fromEntries(linearShares(300, day(4), [sms, email, call, unopened], [], settings))).toEqual({ sms: 100, email: 100, call: 100 });
    expect(linearShares(300, day(30), [sms], [], settings).size).toBe(0);
  });
});
