import { describe, expect, it } from "vitest";
import { findRoute, matcherOf } from "./route-pattern.ts";

describe("matcherOf", () => {
  it.each([
    ["/v1/campaigns/{id}", "/v1/campaigns/4c1f", true],
    ["/v1/campaigns/{id}", "/v1/campaigns/4c1f/", true],
    ["/v1/campaigns/{id}", "/v1/campaigns", false],
    ["/v1/campaigns/{id}", "/v1/campaigns/4c1f/launch", false],
    ["/v1/campaigns/{id}/launch", "/v1/campaigns/4c1f/launch", true],
    ["/v1/campaigns/{id}/launch", "/v1/campaigns/4c1f/pause", false],
    ["/v1/webhooks/*", "/v1/webhooks/twilio/voice/attempts/a/gather", true],
    ["/v1/webhooks/*", "/v1/webhooks", false],
    ["/v1/webhooks/*", "/v1/webhookss", false],
    ["/docs", "/docs/swagger-ui.css", false],
    ["/healthz", "/healthz", true],
  ])("%s against %s: %s", (pattern, path, expected) => {
    expect(matcherOf([pattern])(path)).toBe(expected);
  });
});

describe("findRoute", () => {
  const table = [
    { method: "GET", path: "/v1/accounts/{id}" },
    { method: "GET", path: "/v1/accounts/import" },
    { method: "POST", path: "/v1/accounts/{id}" },
  ] as const;

  it("prefers the entry with more literal segments, whatever the order", () => {
    expect(findRoute(table, "GET", "/v1/accounts/import")?.path).toBe("/v1/accounts/import");
    expect(findRoute([...table].reverse(), "GET", "/v1/accounts/import")?.path).toBe("/v1/accounts/import");
    expect(findRoute(table, "GET", "/v1/accounts/9a")?.path).toBe("/v1/accounts/{id}");
  });

  it("matches the method too, in any case", () => {
    expect(findRoute(table, "post", "/v1/accounts/import")?.path).toBe("/v1/accounts/{id}");
    expect(findRoute(table, "DELETE", "/v1/accounts/9a")).toBeUndefined();
  });
});
