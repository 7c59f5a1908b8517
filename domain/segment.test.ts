import { describe, expect, it } from "vitest";
import { segmentSchema } from "./segment.ts";

describe("segment", () => {
  it("reads codes in any case as accounts store them, in capitals", () => {
    expect(segmentSchema.parse({ jurisdictions: ["id", " us-ma"], currency: "idr" })).toMatchObject({ jurisdictions: ["ID", "US-MA"], currency: "IDR" });
  });

  it("refuses a currency that is not an ISO 4217 code, naming it", () => {
    const result = segmentSchema.safeParse({ currency: "RPH" });
    expect(result.error?.issues.map((i) => i.path.join("."))).toEqual(["currency"]);
  });
});
