import { randomUUID } from "node:crypto";
import { inject } from "vitest";
import { loadConfig } from "../runtime/config.ts";
import { createLogger } from "../runtime/logger.ts";
import { startStack, type Stack } from "../runtime/stack.ts";
import { freePort } from "./ports.ts";
import { zoneAtLocalHour } from "./zones.ts";

/**
 * The real product (API, worker, activities, vendor sandbox) on the shared test PostgreSQL
 * and Temporal, with a task queue of its own so test files never see each other's work.
 */
export async function startTestStack(env: Record<string, string> = {}): Promise<Stack & { config: ReturnType<typeof loadConfig> }> {
  const config = loadConfig({
    DATABASE_URL: inject("databaseUrl"),
    TEMPORAL_ADDRESS: inject("temporalAddress"),
    PORT: String(await freePort()),
    TAGIH_SANDBOX_PORT: String(await freePort()),
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    LOG_LEVEL: "warn",
    ...env,
  });
  const stack = await startStack(config, createLogger(config.logLevel), { workflowBundlePath: inject("workflowBundlePath"), enrolPageSize: 2 });
  return { ...stack, config };
}

/** JSON over HTTP against a running API; a string body is sent as it is (set its content-type in `headers`). */
export async function api(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; contentType: string | null }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, contentType: response.headers.get("content-type") };
}

/** Polls until `check` returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let counter = 0;
/**
 * A valid account with a unique external id, reachable now: India's contact hours apply
 * every day without a holiday rule, and the zone puts the debtor at midday.
 */
export function accountFixture(overrides: Record<string, unknown> = {}) {
  counter += 1;
  return {
    externalId: `T-${randomUUID().slice(0, 8)}-${counter}`,
    name: "Budi Santoso",
    phone: `+62 812-3456-${String(7000 + counter).padStart(4, "0")}`,
    jurisdiction: "IN",
    timeZone: zoneAtLocalHour(12),
    locale: "id-ID",
    product: "credit-card",
    currency: "IDR",
    balanceMinor: 150_000_000,
    daysPastDue: 12,
    dueDate: "2026-12-25",
    ...overrides,
  };
}
