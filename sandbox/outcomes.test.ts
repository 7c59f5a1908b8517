import { describe, expect, it } from "vitest";
import { DEFAULT_OUTCOMES, drawEngagement, drawSms, mergeOutcomes } from "./outcomes.ts";
import { createRng } from "./random.ts";

describe("mergeOutcomes", () => {
  it("replaces the channels given and keeps the others", () => {
    const mix = mergeOutcomes(DEFAULT_OUTCOMES, { sms: { failed: 1 } });
    expect(mix.sms).toEqual({ failed: 1 });
    expect(mix.email).toBe(DEFAULT_OUTCOMES.email);
    expect(drawSms(createRng(1), mix)).toBe("failed");
  });

  it("rejects mixes that cannot be drawn", () => {
    expect(() => mergeOutcomes(DEFAULT_OUTCOMES, { sms: {} })).toThrow(/at least one positive weight/);
    expect(() => mergeOutcomes(DEFAULT_OUTCOMES, { voice: { completed: -1, busy: 1 } })).toThrow(/weight >= 0/);
    expect(() => mergeOutcomes(DEFAULT_OUTCOMES, { email: { delivered: 1, open: 2 } })).toThrow(/probability/);
    expect(() => mergeOutcomes(DEFAULT_OUTCOMES, { voice: { completed: 1, digits: ["1a"] } })).toThrow(/digits/);
    expect(() => mergeOutcomes(DEFAULT_OUTCOMES, { sms: { delivered: 1, reply: 1.5 } })).toThrow("outcomes.sms.reply must be a probability in [0, 1]");
    expect(() => mergeOutcomes(DEFAULT_OUTCOMES, { whatsapp: { read: 1, replyTexts: [] } })).toThrow("outcomes.whatsapp.replyTexts must be a list of texts");
    expect(() => mergeOutcomes(DEFAULT_OUTCOMES, { payments: { after: -0.1 } })).toThrow("outcomes.payments.after must be a probability in [0, 1]");
  });

  it("draws a click with the open that precedes it", () => {
    const mix = mergeOutcomes(DEFAULT_OUTCOMES, { email: { delivered: 1, click: 1 } });
    expect(drawEngagement(createRng(1), mix)).toEqual(["open", "click"]);
  });
});
