import { describe, expect, it } from "vitest";
import { maskEmail, maskPhone } from "./mask.ts";

describe("masks", () => {
  it("keeps the country prefix and the last four digits of a phone number", () => {
    expect(maskPhone("+6281234567890")).toBe("+62*******7890");
    expect(maskPhone("whatsapp:+254712345678")).toBe("whatsapp:+25******5678");
    expect(maskPhone("12345")).toBe("*****");
    expect(maskPhone(null)).toBe("");
  });

  it("keeps the first letter and the domain of an email address", () => {
    expect(maskEmail("budi.santoso@example.co.id")).toBe("b***@example.co.id");
    expect(maskEmail("nope")).toBe("***");
  });
});
