import { describe, expect, it } from "vitest";
import { accountInputSchema, toE164 } from "./account-input.ts";

const base = { externalId: "A-1", name: "Budi", jurisdiction: "ID", product: "credit-card", currency: "IDR", balanceMinor: 150000000, daysPastDue: 12 };

describe("account input", () => {
  it.each([
    ["0812-3456-7890", "ID", "+6281234567890"],
    ["+62 812 3456 7890", "ID", "+6281234567890"],
    ["98765 43210", "IN", "+919876543210"],
    ["0712 345678", "KE", "+254712345678"],
    ["(415) 555-2671", "US", "+14155552671"],
    ["9123 4567", "SG", "+6591234567"],
    ["07911 123456", "GB", "+447911123456"],
    ["12345", "ID", undefined],
  ])("%s in %s is %s", (raw, country, e164) => {
    expect(toE164(raw, country)).toBe(e164);
  });

  it("normalises contact points and converts the balance to a bigint", () => {
    const account = accountInputSchema.parse({ ...base, phone: "0812-3456-7890", balanceMinor: "9000000000000000001" });
    expect(account.phone).toBe("+6281234567890");
    expect(account.balanceMinor).toBe(9000000000000000001n);
  });

  it.each([
    [{ phone: "0812" }, "phone"],
    [{ timeZone: "Jakarta" }, "timeZone"],
    [{ currency: "RPH" }, "currency"],
    [{ jurisdiction: "XX" }, "jurisdiction"],
    [{ daysPastDue: -1 }, "daysPastDue"],
    [{ balanceMinor: 1.5 }, "balanceMinor"],
    [{ balanceMinor: "9223372036854775808" }, "balanceMinor"],
    [{ email: "not-an-email" }, "email"],
    [{ dueDate: "2026-13-01" }, "dueDate"],
    [{ surprise: 1 }, ""],
  ])("rejects %o naming %s", (patch, field) => {
    const result = accountInputSchema.safeParse({ ...base, ...patch });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join("."))).toContain(field);
  });
});
