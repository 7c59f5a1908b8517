import { describe, expect, it } from "vitest";
import { durationMs } from "./duration.ts";
import { campaignStrategySchema, strategySchema, templateNamesOf } from "./strategy.ts";

describe("strategy", () => {
  it("accepts a one-step SMS strategy and fills defaults", () => {
    const s = strategySchema.parse({ steps: [{ id: "sms-1", kind: "contact", channel: "sms", template: "reminder" }] });
    expect(s).toEqual({
      version: 1,
      promiseGraceDays: 2,
      steps: [{ id: "sms-1", kind: "contact", channel: "sms", template: "reminder", fallbacks: [], waitForOutcome: "P1D" }],
    });
  });

  it.each([
    [{ steps: [] }, "steps"],
    [{ steps: [{ id: "a", kind: "contact", channel: "fax", template: "t" }] }, "steps.0.channel"],
    [{ steps: [{ id: "a b", kind: "contact", channel: "sms", template: "t" }] }, "steps.0.id"],
    [{ steps: [{ id: "a", kind: "contact", channel: "sms", template: "t", waitForOutcome: "1 day" }] }, "steps.0.waitForOutcome"],
    [
      {
        steps: [
          { id: "a", kind: "contact", channel: "sms", template: "t" },
          { id: "a", kind: "contact", channel: "sms", template: "t" },
        ],
      },
      "steps",
    ],
  ])("rejects %j at %s", (input, path) => {
    const result = strategySchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join("."))).toContain(path);
  });

  it.each([
    ["PT1H", 3_600_000],
    ["P2D", 172_800_000],
    ["PT1H30M", 5_400_000],
    ["P1DT12H", 129_600_000],
  ])("%s is %d ms", (iso, ms) => {
    expect(durationMs(iso)).toBe(ms);
  });
});

describe("templateNamesOf", () => {
  const contact = (id: string, template: string) => ({ id, kind: "contact", channel: "sms", template });
  it.each([
    [[{ name: "champion", weight: 1, strategy: { steps: [contact("a", "reminder")] } }], ["reminder"]],
    [
      [
        { name: "champion", weight: 1, strategy: { steps: [contact("a", "reminder"), { id: "w", kind: "wait", duration: "P1D" }, contact("b", "final")] } },
        { name: "challenger", weight: 1, strategy: { steps: [contact("a", "reminder"), contact("b", "soft")] } },
        { name: "holdout", weight: 1, holdout: true },
      ],
      ["final", "reminder", "soft"],
    ],
  ])("names every template of %j once", (variants, names) => {
    expect(templateNamesOf(campaignStrategySchema.parse({ variants }))).toEqual(names);
  });
});
