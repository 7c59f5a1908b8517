import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, maskPersonalData } from "./logger.ts";

describe("maskPersonalData", () => {
  it.each([
    [{ to: "+6281234567890" }, { to: "+62*******7890" }],
    [{ to: "whatsapp:+6281234567890" }, { to: "whatsapp:+62*******7890" }],
    [{ email: "budi.santoso@example.co.id" }, { email: "b***@example.co.id" }],
    [{ name: "Budi Santoso" }, { name: "B***" }],
    [{ detail: "sending to +91 98765 43210 failed" }, { detail: "sending to +91******3210 failed" }],
    [{ nested: [{ phone: "+254712345678" }] }, { nested: [{ phone: "+25******5678" }] }],
    [
      { detail: "promise due 2026-12-25 (2026-12-01 to 2026-12-31) by 0812-3456-7890" },
      { detail: "promise due 2026-12-25 (2026-12-01 to 2026-12-31) by 08******7890" },
    ],
    [{ coveredUntil: "2027-12-31" }, { coveredUntil: "2027-12-31" }],
    [
      { accountId: "6f1c", count: 3 },
      { accountId: "6f1c", count: 3 },
    ],
    [
      { id: "91c599be-7321-4403-b0b5-446abb4b1557", sid: "SM4890226a697839440d03b54b20876514" },
      { id: "91c599be-7321-4403-b0b5-446abb4b1557", sid: "SM4890226a697839440d03b54b20876514" },
    ],
  ])("masks %o", (input, expected) => {
    expect(maskPersonalData(input)).toEqual(expected);
  });
});

describe("createLogger", () => {
  it("writes JSON with personal data masked in fields and messages", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    createLogger("info", sink).info({ to: "+6281234567890", accountId: "a1" }, "sent to budi@example.com");
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ level: "info", to: "+62*******7890", accountId: "a1", msg: "sent to b***@example.com" });
    expect(lines[0]).not.toContain("81234567890");
  });
});
