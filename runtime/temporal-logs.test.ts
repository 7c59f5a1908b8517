import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";
import { sdkLoggerOf } from "./temporal-logs.ts";

describe("the Temporal SDK's logs", () => {
  it("come out as one JSON record per line, errors with their stack, personal data masked", () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
    const sdk = sdkLoggerOf(createLogger("info", out));
    sdk.warn("Activity failed", { activityType: "sendContact", attempt: 3, error: new Error("Twilio refused +6281234567890") });
    sdk.debug("below the level", {});
    sdk.log("INFO", "Worker state changed", { state: "RUNNING" });

    expect(lines).toHaveLength(2);
    expect(lines.join("\n")).not.toContain("81234567890");
    const [failed, state] = lines.map((line) => JSON.parse(line));
    expect(failed).toMatchObject({
      level: "warn",
      msg: "Activity failed",
      activityType: "sendContact",
      attempt: 3,
      err: { message: "Twilio refused +62*******7890" },
    });
    expect(failed.err.stack).toContain("Error: Twilio refused");
    expect(state).toMatchObject({ level: "info", msg: "Worker state changed", state: "RUNNING" });
  });
});
