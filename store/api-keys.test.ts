import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { apiKeyHash, generateApiKey, isRole, ROLES } from "./api-keys.ts";

describe("API keys", () => {
  it.each([
    ["admin", "adm"],
    ["ops", "ops"],
    ["manager", "mgr"],
    ["agency", "agy"],
  ] as const)("a %s key reads tagih_%s_ and 256 random bits", (role, prefix) => {
    const key = generateApiKey(role);
    expect(key).toMatch(new RegExp(`^tagih_${prefix}_[A-Za-z0-9_-]{43}$`));
    expect(generateApiKey(role)).not.toBe(key);
  });

  it("are stored as their SHA-256, never as themselves", () => {
    const key = generateApiKey("ops");
    expect(apiKeyHash(key)).toBe(createHash("sha256").update(key).digest("hex"));
    expect(apiKeyHash(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(apiKeyHash(key)).not.toContain(key.slice(10));
  });

  it("know the four roles only", () => {
    expect(ROLES.filter(isRole)).toEqual(["admin", "ops", "manager", "agency"]);
    expect(isRole("root")).toBe(false);
  });
});
