import { describe, expect, it } from "vitest";
import { segmentSchema, segmentWhere } from "./segment.ts";

const fieldsOf = (value: unknown) => segmentSchema.safeParse(value).error?.issues.map((i) => i.path.join("."));

describe("segment", () => {
  it("reads codes in any case as accounts store them, in capitals", () => {
    expect(segmentSchema.parse({ jurisdictions: ["id", " us-ma"], currency: "idr" })).toMatchObject({ jurisdictions: ["ID", "US-MA"], currency: "IDR" });
  });

  it("refuses a currency that is not an ISO 4217 code, naming it", () => {
    expect(fieldsOf({ currency: "RPH" })).toEqual(["currency"]);
  });

  // Before, a misspelled bound was dropped: {"daysPastDue":{"from":100}} was stored as {} and
  // the campaign enrolled every account.
  it("refuses a misspelled range bound, naming it", () => {
    expect(fieldsOf({ daysPastDue: { from: 100 } })).toEqual(["daysPastDue.from"]);
    expect(segmentSchema.safeParse({ daysPastDue: { from: 100 } }).error?.issues[0]?.message).toBe("is not one of min, max");
    expect(fieldsOf({ balanceMinor: { minimum: "999999", max: "1" } })).toEqual(["balanceMinor.minimum"]);
    expect(fieldsOf({ bucket: "late", products: ["card"] })).toEqual(["bucket"]);
  });

  it("refuses bounds beyond what the accounts' columns hold, so enrolment cannot fail on them", () => {
    expect(fieldsOf({ balanceMinor: { min: "999999999999999999999999999" } })).toEqual(["balanceMinor.min"]);
    expect(fieldsOf({ balanceMinor: { max: 2 ** 60 } })).toEqual(["balanceMinor.max"]);
    expect(fieldsOf({ daysPastDue: { min: 3_000_000_000 } })).toEqual(["daysPastDue.min"]);
    expect(segmentSchema.parse({ balanceMinor: { max: "9223372036854775807" } })).toEqual({ balanceMinor: { max: "9223372036854775807" } });
  });

  it("refuses a range whose max is below its min (it could match nobody), naming max", () => {
    expect(fieldsOf({ daysPastDue: { min: 30, max: 1 } })).toEqual(["daysPastDue.max"]);
    // Compared as numbers, not as strings ("30" > "100" as text).
    expect(fieldsOf({ balanceMinor: { min: "30", max: "1" } })).toEqual(["balanceMinor.max"]);
    expect(segmentSchema.parse({ balanceMinor: { min: "30", max: "100" } })).toEqual({ balanceMinor: { min: "30", max: "100" } });
    expect(segmentSchema.parse({ daysPastDue: { min: 5, max: 5 } })).toEqual({ daysPastDue: { min: 5, max: 5 } });
  });

  // Before, the bounds were compared although one was invalid: BigInt("abc") threw, a 500.
  it.each([
    [{ min: "abc", max: "5" }, ["balanceMinor.min"]],
    [{ min: "10", max: "1.5" }, ["balanceMinor.max"]],
    [{ min: -1, max: "x" }, ["balanceMinor.min", "balanceMinor.max"]],
  ])("names an invalid bound %j without comparing it", (balanceMinor, fields) => {
    expect(fieldsOf({ balanceMinor })).toEqual(fields);
  });

  it("refuses a jurisdiction the compliance gate does not know, naming it", () => {
    expect(fieldsOf({ jurisdictions: ["ID", "ZZ"] })).toEqual(["jurisdictions.1"]);
  });

  it("matches products whatever their case", () => {
    expect(segmentWhere(segmentSchema.parse({ products: [" Card "] }))).toEqual({ balanceMinor: { gt: 0n }, product: { in: ["Card"], mode: "insensitive" } });
  });

  it("never takes an account that owes nothing, whatever the balance range", () => {
    expect(segmentWhere(undefined)).toEqual({ balanceMinor: { gt: 0n } });
    expect(segmentWhere(segmentSchema.parse({ balanceMinor: { min: 100, max: 5000 } }))).toEqual({ balanceMinor: { gt: 0n, gte: 100n, lte: 5000n } });
    expect(segmentWhere(segmentSchema.parse({ balanceMinor: { max: 5000 } }))).toEqual({ balanceMinor: { gt: 0n, lte: 5000n } });
  });
});
