import { randomBytes, randomUUID } from "node:crypto";
import { inject } from "vitest";
import { statusRank } from "../domain/attempt-status.ts";
import type { Database } from "../runtime/database.ts";
import { loadConfig } from "../runtime/config.ts";
import { createLogger } from "../runtime/logger.ts";
import { startStack, type Stack } from "../runtime/stack.ts";
import { freePort } from "./ports.ts";
import { uniqueMobile, zoneAtLocalHour } from "./zones.ts";
import { startVendorSandbox } from "../sandbox/index.ts";
import type { SandboxOptions } from "../sandbox/types.ts";

// The admin key of each running test stack, by API address: `api()` sends it by default.
const adminKeys = new Map<string, string>();

/**
 * The real product (API, worker, activities, vendor sandbox) on the shared test PostgreSQL
 * and Temporal, with a task queue of its own so test files never see each other's work, and
 * an admin API key of its own (`adminKey`, sent by `api()` unless told otherwise).
 */
export async function startTestStack(env: Record<string, string> = {}): Promise<Stack & { config: ReturnType<typeof loadConfig>; adminKey: string }> {
  // A port found free can be taken as the local port of some outgoing connection before the
  // stack listens on it: the stack then starts again (on new ports, unless the test pinned them).
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTestStackOnce(env);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt === 3) throw error;
    }
  }
}

async function startTestStackOnce(env: Record<string, string>): Promise<Stack & { config: ReturnType<typeof loadConfig>; adminKey: string }> {
  const adminKey = `tagih_adm_test_${randomBytes(24).toString("base64url")}`;
  const config = loadConfig({
    TAGIH_ADMIN_API_KEY: adminKey,
    DATABASE_URL: inject("databaseUrl"),
    TEMPORAL_ADDRESS: inject("temporalAddress"),
    PORT: String(await freePort()),
    TAGIH_SANDBOX_PORT: String(await freePort()),
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    LOG_LEVEL: "warn",
    // The tests' agencies and notified systems listen on loopback.
    TAGIH_PRIVATE_ENDPOINTS: "allow",
    ...env,
  });
  const stack = await startStack(config, createLogger(config.logLevel), { workflowBundlePath: inject("workflowBundlePath"), enrolPageSize: 2 });
  const key = config.adminApiKey ?? stack.generatedAdminKey;
  if (key) adminKeys.set(stack.apiUrl, key);
  return { ...stack, config, adminKey: key ?? "" };
}

/**
 * The stack with a vendor sandbox of the test's own, whose Twilio credentials the test knows
 * (to sign inbound messages and calls as Twilio does); the sandbox calls this stack back.
 * Stop both: `stack.stop()`, then `sandbox.close()`.
 */
export async function startTestStackWithSandbox(
  twilio: { accountSid: string; authToken: string },
  sandboxOptions: Omit<SandboxOptions, "twilio" | "deliverTo">,
  env: Record<string, string> = {},
) {
  const port = await freePort();
  const sandbox = await startVendorSandbox({ ...sandboxOptions, twilio, deliverTo: `http://127.0.0.1:${port}` });
  try {
    const stack = await startTestStack({
      PORT: String(port),
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TAGIH_TWILIO_API_URL: sandbox.url,
      ...env,
    });
    return { stack, sandbox };
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}

export interface ApiOptions {
  /** The API key to send instead of the stack's admin key; null sends none. */
  key?: string | null;
  headers?: Record<string, string>;
}

/** HTTP against a running API (JSON bodies), as the stack's admin unless `options.key` says otherwise. */
export async function api(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  options: ApiOptions = {},
): Promise<{ status: number; body: any; contentType: string | null; headers: Headers }> {
  const key = options.key === undefined ? adminKeys.get(baseUrl) : options.key;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...options.headers,
    },
    body: body === undefined ? undefined : typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const contentType = response.headers.get("content-type");
  // JSON answers parsed; others (HTML pages, TwiML) as text.
  const parsed = !text ? undefined : contentType?.includes("json") ? JSON.parse(text) : text;
  return { status: response.status, body: parsed, contentType, headers: response.headers };
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
 * every day without a holiday rule, the zone (given or chosen) puts the debtor at midday,
 * and the phone is of that zone's country (so the gate has no other zone to respect) and
 * the account's own.
 */
export function accountFixture(overrides: Record<string, unknown> = {}) {
  counter += 1;
  const timeZone = (overrides.timeZone as string | undefined) ?? zoneAtLocalHour(12);
  return {
    externalId: `T-${randomUUID().slice(0, 8)}-${counter}`,
    name: "Budi Santoso",
    phone: uniqueMobile(timeZone),
    jurisdiction: "IN",
    timeZone,
    locale: "id-ID",
    product: "credit-card",
    currency: "IDR",
    balanceMinor: 150_000_000,
    daysPastDue: 12,
    dueDate: "2026-12-25",
    ...overrides,
  };
}

/**
 * An account enrolled in a campaign with one attempt the vendor (Twilio, SendGrid for email)
 * accepted as `vendorId`, at `status`, written directly: no campaign runs, so callbacks for it
 * are all a test sends.
 */
export async function seedAttempt(db: Database, attempt: { vendorId: string | null; channel: "sms" | "voice" | "email"; status: string }) {
  const account = await db.account.create({
    data: {
      externalId: `S-${randomUUID()}`,
      name: "Asha",
      jurisdiction: "IN",
      product: "loan",
      currency: "INR",
      balanceMinor: 1000n,
      daysPastDue: 3,
      phone: "+919876543210",
      email: "debtor@example.com",
    },
  });
  const campaign = await db.campaign.create({ data: { name: "seeded attempt", strategy: { version: 1, steps: [] } } });
  const enrolment = await db.enrolment.create({ data: { campaignId: campaign.id, accountId: account.id, workflowId: `wf-${randomUUID()}` } });
  return db.contactAttempt.create({
    data: {
      enrolmentId: enrolment.id,
      accountId: account.id,
      stepId: `${attempt.channel}-1`,
      channel: attempt.channel,
      vendor: attempt.channel === "email" ? "sendgrid" : "twilio",
      vendorId: attempt.vendorId,
      status: attempt.status,
      statusRank: statusRank(attempt.status),
    },
  });
}
