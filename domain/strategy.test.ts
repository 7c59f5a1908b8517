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
    // A channel tried twice in one step would never run the second time.
    [{ steps: [{ id: "a", kind: "contact", channel: "sms", template: "t", fallbacks: ["sms"] }] }, "steps.0.fallbacks.0"],
    [{ steps: [{ id: "a", kind: "contact", channel: "sms", template: "t", fallbacks: ["email", "whatsapp", "email"] }] }, "steps.0.fallbacks.2"],
    // A branch on a DPD range no account is in is never taken.
    [
      {
        steps: [
          { id: "b", kind: "branch", when: { daysPastDue: { min: 10, max: 5 } }, then: "a" },
          { id: "a", kind: "contact", channel: "sms", template: "t" },
        ],
      },
      "steps.0.when.daysPastDue.max",
    ],
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

describe("durations", () => {
  const wait = (duration: string) => ({ steps: [{ id: "w", kind: "wait", duration }] });
  const sms = (waitForOutcome: string) => ({ steps: [{ id: "s", kind: "contact", channel: "sms", template: "t", waitForOutcome }] });
  it.each([
    [wait("P99999999999D"), "steps.0.duration", "at most 366 days"],
    [wait("P367D"), "steps.0.duration", "at most 366 days"],
    [wait("PT8785H"), "steps.0.duration", "at most 366 days"],
    [wait(`P${"9".repeat(400)}D`), "steps.0.duration", "at most 366 days"],
    [wait("PT0S"), "steps.0.duration", "longer than zero"],
    [sms("P1000D"), "steps.0.waitForOutcome", "at most 366 days"],
  ])("refuses %j at %s: %s", (input, path, message) => {
    const issues = strategySchema.safeParse(input).error?.issues ?? [];
    expect(issues.map((i) => [i.path.join("."), i.message])).toContainEqual([path, expect.stringContaining(message)]);
  });

  it.each([wait("P366D"), wait("PT8784H"), sms("P366D")])("accepts %j", (input) => {
    expect(strategySchema.safeParse(input).error?.issues).toBeUndefined();
  });
});

// Before, an end step could claim "paid": the summary then showed payments nobody made.
describe("end step outcomes", () => {
  const end = (outcome: string) => ({ steps: [{ id: "done", kind: "end", outcome }] });
  it.each(["paid", "Paid", " cancelled ", "contacted", "not-contacted", "holdout", "strategy-loop"])("refuses %j, one Tagih gives itself", (outcome) => {
    const issues = strategySchema.safeParse(end(outcome)).error?.issues ?? [];
    expect(issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["steps.0.outcome", expect.stringContaining("must not be one Tagih gives journeys itself")],
    ]);
  });
  it.each(["exhausted", "paid-elsewhere", "skipped"])("accepts %j", (outcome) => {
    expect(strategySchema.safeParse(end(outcome)).error?.issues).toBeUndefined();
  });
});

describe("unknown keys", () => {
  const sms = { id: "s", kind: "contact", channel: "sms", template: "reminder" };
  it.each([
    [{ steps: [{ ...sms, fallback: ["email"], waitForOutcom: "PT1H" }] }, "steps.0", ["fallback", "waitForOutcom"]],
    [{ steps: [sms], brokenPromiseSteps: "s" }, "", ["brokenPromiseSteps"]],
    [{ steps: [{ id: "w", kind: "wait", duration: "PT1H", durationn: "P1D" }] }, "steps.0", ["durationn"]],
    [
      {
        steps: [
          { id: "b", kind: "branch", when: { paid: true }, then: "e", otherwise: "e" },
          { id: "e", kind: "end" },
        ],
      },
      "steps.0",
      ["otherwise"],
    ],
    [{ steps: [{ id: "n", kind: "action", action: "notify", purpose: "escalate", url: "https://ops.example.com/h", secret: "x" }] }, "steps.0", ["secret"]],
    [{ steps: [{ id: "p", kind: "action", action: "place-with-agency", agency: "Acme", comission: 10 }] }, "steps.0", ["comission"]],
    [{ steps: [{ id: "e", kind: "end", outcom: "done" }] }, "steps.0", ["outcom"]],
  ])("refuses %j at %j, naming %j", (input, path, keys) => {
    const result = strategySchema.safeParse(input);
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find((i) => i.code === "unrecognized_keys");
    expect(issue?.path.join(".")).toBe(path);
    for (const key of keys) expect(issue!.message).toContain(`"${key}"`);
  });
});

describe("loops", () => {
  const sms = (id: string) => ({ id, kind: "contact", channel: "sms", template: "reminder" });
  const branch = (id: string, then: string, otherwise?: string) => ({
    id,
    kind: "branch",
    when: { paid: true },
    then,
    ...(otherwise ? { else: otherwise } : {}),
  });
  const wait = (id: string) => ({ id, kind: "wait", duration: "PT15M" });
  const notify = (id: string) => ({ id, kind: "action", action: "notify", purpose: "escalate", url: "https://ops.example.com/hook" });

  it.each([
    ["a branch to itself", [branch("b", "b", "b")], ["steps.0.then", "steps.0.else"], "b → b"],
    ["two branches to each other", [branch("a", "b"), branch("b", "a")], ["steps.1.then"], "a → b → a"],
    ["a contact step and a branch back to it", [sms("s"), branch("again", "done", "s"), { id: "done", kind: "end" }], ["steps.1.else"], "s → again → s"],
    ["an action and a branch back to it", [notify("n"), branch("again", "n")], ["steps.1.then"], "n → again → n"],
    ["a loop past a wait step that skips it", [sms("s"), branch("skip", "back"), wait("w"), branch("back", "s")], ["steps.3.then"], "s → skip → back → s"],
  ])("refuses %s, naming the branch that closes it", (_, steps, paths, loop) => {
    const result = strategySchema.safeParse({ steps });
    expect(result.success).toBe(false);
    const issues = result.error!.issues.filter((i) => i.message.includes("loops back"));
    expect(issues.map((i) => i.path.join("."))).toEqual(paths);
    expect(issues[0]!.message).toContain(`(${loop})`);
  });

  it.each([
    ["a retry after a wait", [sms("s"), branch("delivered", "done", "w"), wait("w"), branch("again", "done", "s"), { id: "done", kind: "end" }]],
    ["a wait step as the loop's target", [wait("w"), sms("s"), branch("again", "w")]],
    ["branches that only go forward", [branch("a", "c", "b"), sms("b"), sms("c")]],
  ])("accepts %s", (_, steps) => {
    expect(strategySchema.safeParse({ steps }).error?.issues).toBeUndefined();
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
