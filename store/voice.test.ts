import { describe, expect, it } from "vitest";
import { outcomeOf, statusRank } from "../domain/attempt-status.ts";
import { attemptStatusOfCall, callSeconds, isMachine } from "./voice.ts";

describe("Twilio call status → attempt status", () => {
  it.each([
    ["queued", undefined, "queued", undefined],
    ["initiated", undefined, "sending", undefined],
    ["ringing", undefined, "sent", undefined],
    ["in-progress", "human", "sent", undefined],
    ["completed", "human", "delivered", "delivered"],
    ["completed", undefined, "delivered", "delivered"],
    ["completed", "unknown", "delivered", "delivered"],
    ["completed", "machine_start", "undelivered", "failed"],
    ["completed", "machine_end_beep", "undelivered", "failed"],
    ["completed", "fax", "undelivered", "failed"],
    ["busy", undefined, "failed", "failed"],
    ["no-answer", undefined, "failed", "failed"],
    ["failed", undefined, "failed", "failed"],
    ["canceled", undefined, "canceled", "failed"],
  ])("%s (answered by %s) is %s, outcome %s", (callStatus, answeredBy, status, outcome) => {
    const mapped = attemptStatusOfCall(callStatus, answeredBy);
    expect(mapped?.status).toBe(status);
    expect(outcomeOf(mapped!.status)).toBe(outcome);
  });

  it("ranks the call's progress forward, so a late 'ringing' never overwrites 'completed'", () => {
    const rank = (s: string, a?: string) => statusRank(attemptStatusOfCall(s, a)!.status);
    expect(rank("queued")).toBeLessThan(rank("initiated"));
    expect(rank("initiated")).toBeLessThan(rank("ringing"));
    expect(rank("ringing")).toBeLessThanOrEqual(rank("in-progress"));
    expect(rank("in-progress")).toBeLessThan(rank("completed", "human"));
    expect(rank("in-progress")).toBeLessThan(rank("no-answer"));
  });

  it("keeps the reason a call reached no person", () => {
    expect(attemptStatusOfCall("busy")?.errorCode).toBe("busy");
    expect(attemptStatusOfCall("completed", "machine_end_silence")?.errorCode).toBe("answering-machine");
    expect(attemptStatusOfCall("ringing-backwards")).toBeUndefined();
  });

  it.each([
    ["machine_start", true],
    ["machine_end_other", true],
    ["fax", true],
    ["human", false],
    ["unknown", false],
    [undefined, false],
  ])("%s is a machine: %s", (answeredBy, machine) => {
    expect(isMachine(answeredBy)).toBe(machine);
  });

  it.each([
    ["0", 0],
    ["61", 61],
    ["86400", 86_400],
    ["007", 7],
    ["86401", undefined],
    ["999999999999", undefined],
    ["1e12", undefined],
    ["1.5", undefined],
    ["-1", undefined],
    ["abc", undefined],
    [" 30", undefined],
    ["", undefined],
    [undefined, undefined],
  ])("a CallDuration of %j is %s seconds", (duration, seconds) => {
    expect(callSeconds(duration)).toBe(seconds);
  });
});
