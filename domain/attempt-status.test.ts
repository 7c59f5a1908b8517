import { describe, expect, it } from "vitest";
import { isKnownStatus, outcomeOf, statusRank } from "./attempt-status.ts";

describe("attempt status", () => {
  it.each([
    ["queued", "sent", true],
    ["sent", "delivered", true],
    ["delivered", "read", true],
    ["delivered", "sent", false],
    ["delivered", "undelivered", false],
    ["failed", "delivered", false],
    ["pending", "queued", true],
  ])("%s → %s moves forward: %s", (from, to, forward) => {
    expect(statusRank(to) > statusRank(from)).toBe(forward);
  });

  it.each([
    ["delivered", "delivered"],
    ["read", "delivered"],
    ["undelivered", "failed"],
    ["failed", "failed"],
    ["sent", undefined],
    ["queued", undefined],
  ])("%s has outcome %s", (status, outcome) => {
    expect(outcomeOf(status)).toBe(outcome);
  });
});

describe("statuses a vendor may send that we do not know", () => {
  it.each(["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "partially_delivered", ""])("%j ranks -1 and is unknown", (status) => {
    expect(statusRank(status)).toBe(-1);
    expect(isKnownStatus(status)).toBe(false);
  });
});
