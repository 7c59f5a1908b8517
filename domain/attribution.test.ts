import { describe, expect, it } from "vitest";
import { attributionSchema, DEFAULT_ATTRIBUTION } from "./attribution.ts";

describe("attribution settings", () => {
  it("defaults to the reference's windows: 7 days for SMS, WhatsApp and voice, 5 for email", () => {
    expect(DEFAULT_ATTRIBUTION).toEqual({ windowDays: { sms: 7, whatsapp: 7, voice: 7, email: 5 }, promiseGraceDays: 2 });
  });

  it.each([
    [{ windowDays: { email: 3 } }, { windowDays: { sms: 7, whatsapp: 7, voice: 7, email: 3 }, promiseGraceDays: 2 }],
    [{ promiseGraceDays: 0 }, { windowDays: { sms: 7, whatsapp: 7, voice: 7, email: 5 }, promiseGraceDays: 0 }],
  ])("fills %j to %j", (input, settings) => {
    expect(attributionSchema.parse(input)).toEqual(settings);
  });

  it.each([
    [{ windowDays: { sms: -1 } }, "windowDays.sms"],
    [{ windowDays: { email: 1.5 } }, "windowDays.email"],
    [{ windowDays: { fax: 3 } }, "windowDays"],
    [{ promiseGraceDays: 31 }, "promiseGraceDays"],
    [{ window: 3 }, ""],
  ])("refuses %j at %j", (input, field) => {
    const result = attributionSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join("."))).toEqual([field]);
  });
});
