import { describe, expect, it } from "vitest";
import { createLogger } from "../runtime/logger.ts";
import { accessRule, isPublicPath, requireAccess } from "./access.ts";
import { createApp } from "./app.ts";
import { router } from "./router.ts";
import type { ApiDeps } from "./types.ts";

const untouchable = new Proxy({}, { get: () => expect.unreachable("no database or Temporal call expected") }) as never;

describe("the access table", () => {
  it.each([
    ["GET", "/v1/campaigns/4c1f", ["admin", "ops", "manager"]],
    ["HEAD", "/v1/campaigns/4c1f", ["admin", "ops", "manager"]],
    ["POST", "/v1/campaigns/4c1f/launch", ["admin", "ops"]],
    ["POST", "/v1/accounts/import", ["admin", "ops"]],
    ["DELETE", "/v1/accounts/4c1f/holds/dispute", ["admin", "ops"]],
    ["GET", "/v1/placements", ["admin", "ops", "manager", "agency"]],
    ["DELETE", "/v1/api-keys/4c1f", ["admin"]],
    ["GET", "/v1/audit", ["admin"]],
    ["DELETE", "/v1/campaigns/4c1f", ["admin", "ops"]],
    ["GET", "/dashboard", ["admin", "ops", "manager"]],
    ["GET", "/dashboard/campaigns/4c1f", ["admin", "ops", "manager"]],
  ])("%s %s: %j", (method, path, roles) => {
    expect(accessRule(method, path)?.roles).toEqual(roles);
  });

  it.each([
    ["DELETE", "/v1/agencies/4c1f"],
    ["POST", "/v1/audit"],
    ["GET", "/v1/nothing-here"],
    ["POST", "/dashboard"],
  ])("lists no rule for %s %s, so it is refused", (method, path) => {
    expect(accessRule(method, path)).toBeUndefined();
  });

  it.each([
    ["/healthz", true],
    ["/readyz", true],
    ["/openapi.json", true],
    ["/docs", true],
    ["/docs/swagger-ui.css", true],
    ["/v1/webhooks/twilio/status", true],
    ["/v1/unsubscribe/abc.email.mac", true],
    ["/v1/unsubscribe", false],
    ["/v1/campaigns", false],
    ["/dashboard", true],
    ["/healthz/extra", false],
  ])("%s is public: %s", (path, expected) => {
    expect(isPublicPath(path)).toBe(expected);
  });

  it("covers every route of the OpenAPI document", () => {
    const app = createApp({
      db: untouchable,
      sql: untouchable,
      bulk: untouchable,
      rowValidators: untouchable,
      temporal: untouchable,
      logger: createLogger("silent"),
      settings: { maxBodyBytes: 1024 } as ApiDeps["settings"],
    });
    const unlisted: string[] = [];
    for (const [path, item] of Object.entries(app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } }).paths ?? {}))
      for (const method of Object.keys(item as object)) if (!isPublicPath(path) && !accessRule(method, path)) unlisted.push(`${method.toUpperCase()} ${path}`);
    expect(unlisted).toEqual([]);
  });
});

describe("requireAccess", () => {
  const app = router();
  app.use("*", requireAccess(untouchable, createLogger("silent")));
  app.get("/healthz", (c) => c.text("up"));
  app.get("/v1/campaigns/:id", (c) => c.text("campaign"));

  it("lets public paths through without looking for a key", async () => {
    expect((await app.request("/healthz")).status).toBe(200);
  });

  it.each([undefined, "Basic abc", "Bearer ", "Bearer two words"])(
    "answers %s with a 401 problem asking for a bearer key, before any lookup",
    async (authorization) => {
      const response = await app.request("/v1/campaigns/x", { headers: authorization ? { authorization } : {} });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(await response.json()).toMatchObject({ status: 401, title: "Unauthorized" });
    },
  );
});
