import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";

describe("loadConfig", () => {
  it("runs everything embedded when nothing is set", () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.temporalAddress).toBeUndefined();
    expect(config.twilio).toBeUndefined();
    expect(config.publicBaseUrl).toBe("http://localhost:3000");
  });

  it.each([
    [{ PORT: "abc" }, /PORT .*"abc"/],
    [{ PORT: "70000" }, /PORT/],
    [{ DATABASE_URL: "mysql://x" }, /DATABASE_URL must be a postgres: or postgresql: URL/],
    [{ TEMPORAL_ADDRESS: "localhost" }, /TEMPORAL_ADDRESS must be host:port/],
    [{ PUBLIC_BASE_URL: "not a url" }, /PUBLIC_BASE_URL/],
    [{ TWILIO_ACCOUNT_SID: "AC" + "a".repeat(32) }, /TWILIO_AUTH_TOKEN must be set together/],
    [{ TWILIO_ACCOUNT_SID: "nope", TWILIO_AUTH_TOKEN: "t" }, /TWILIO_ACCOUNT_SID must look like/],
    [{ SENDGRID_API_KEY: "SG.x" }, /SENDGRID_WEBHOOK_PUBLIC_KEY/],
    [{ TAGIH_SANDBOX_OUTCOMES: "[1]" }, /TAGIH_SANDBOX_OUTCOMES must be a JSON object/],
    [{ TAGIH_ADMIN_API_KEY: "too-short" }, /TAGIH_ADMIN_API_KEY must be 32 to 255 printable characters/],
  ])("rejects %o naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("never echoes a secret it rejects", () => {
    expect(() => loadConfig({ DATABASE_URL: "mysql://user:secret@host/db" })).toThrow(/^(?!.*secret)/s);
    expect(() => loadConfig({ TAGIH_ADMIN_API_KEY: "secret with spaces in it, long enough to pass" })).toThrow(/^(?!.*secret with)/s);
  });

  it("uses real vendors when their credentials are set", () => {
    const config = loadConfig({ TWILIO_ACCOUNT_SID: "AC" + "0".repeat(32), TWILIO_AUTH_TOKEN: "tok", PUBLIC_BASE_URL: "https://tagih.example.com/" });
    expect(config.twilio).toEqual({ accountSid: "AC" + "0".repeat(32), authToken: "tok" });
    expect(config.publicBaseUrl).toBe("https://tagih.example.com");
  });
});
