import { describe, expect, it } from "vitest";
import { z } from "zod";
import { checkCallback } from "./problem.ts";

const schema = z.object({ id: z.string(), items: z.array(z.object({ note: z.string() })).optional() });
const nul = (field: string) => ({ field, reason: "must not contain NUL characters" });
const lone = (field: string) => ({ field, reason: "must not contain unpaired surrogates" });

describe("checkCallback", () => {
  it.each([
    ["a clean callback", { id: "a", items: [{ note: "x" }] }, { success: true, data: { id: "a", items: [{ note: "x" }] } }],
    ["a NUL in a top-level string", { id: "a\u0000b" }, { success: false, problems: [nul("id")] }],
    ["a NUL deep in an array", { id: "a", items: [{ note: "ok" }, { note: "bad\u0000" }] }, { success: false, problems: [nul("items.1.note")] }],
    ["a NUL in a key", { id: "a", "ex\u0000tra": "v" }, { success: false, problems: [nul("ex\u0000tra")] }],
    ["a NUL in a field the schema does not know", { id: "a", ErrorMessage: "\u0000" }, { success: false, problems: [nul("ErrorMessage")] }],
    ["a NUL-only body", "\u0000", { success: false, problems: [nul("(body)")] }],
    ["a lone high surrogate", { id: "a\ud800" }, { success: false, problems: [lone("id")] }],
    ["a lone low surrogate deep in an array", { id: "a", items: [{ note: "\udc00x" }] }, { success: false, problems: [lone("items.0.note")] }],
    ["a lone surrogate in a key", { id: "a", ["\ud83d"]: "v" }, { success: false, problems: [lone("\ud83d")] }],
    ["a surrogate pair (an emoji), which is fine", { id: "\ud83d\ude00" }, { success: true, data: { id: "\u{1F600}" } }],
    ["a value of the wrong type, in plain words", { id: 7 }, { success: false, problems: [{ field: "id", reason: "must be a string" }] }],
    [
      "a missing field, in plain words",
      { items: [{}] },
      {
        success: false,
        problems: [
          { field: "id", reason: "is required" },
          { field: "items.0.note", reason: "is required" },
        ],
      },
    ],
  ])("%s", (_what, value, expected) => {
    expect(checkCallback(schema, value)).toEqual(expected);
  });

  it("reports every NUL field, before any schema problem", () => {
    expect(checkCallback(schema, { id: 7, a: "\u0000", b: ["\u0000"] })).toEqual({ success: false, problems: [nul("a"), nul("b.0")] });
  });
});
