import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { PrivateEndpoints } from "../vendors/endpoints.ts";

/** Whether this process runs the TypeScript sources (through tsx or the test runner) or their compiled copy in dist/ (`npm run build`). */
export const fromSources = /\.tsx?$/.test(import.meta.url);
// dist/ mirrors the source tree, one level down.
export const repoRoot = resolve(fileURLToPath(new URL(fromSources ? ".." : "../..", import.meta.url)));
/** Node flags a child process or thread needs to load the code this process runs. */
export const loaderFlags: string[] = fromSources ? ["--import", "tsx"] : [];

/**
 * A module of this code base as this process runs it, for a child process or thread to load.
 * @example codePath("workflows/index.ts") // …/workflows/index.ts, or …/dist/workflows/index.js
 */
export function codePath(source: string): string {
  return fromSources ? join(repoRoot, source) : join(repoRoot, "dist", source.replace(/\.tsx?$/, ".js"));
}

const port = z.coerce.number().int().min(1).max(65535);
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v : undefined));
const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a ${protocols.join(" or ")} URL`,
    );

// Every setting comes from the environment; the defaults run everything embedded.
const schema = z
  .object({
    PORT: port.default(3000),
    TAGIH_ROLE: z.enum(["all", "api", "worker"]).default("all"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    TAGIH_DATA_DIR: z.string().default(join(repoRoot, ".data")),
    DATABASE_URL: url(["postgres:", "postgresql:"]).optional(),
    TAGIH_POSTGRES_PORT: port.default(54329),
    TEMPORAL_ADDRESS: z
      .string()
      .trim()
      .regex(/^[^\s:/]+:\d{1,5}$/, "must be host:port")
      .optional(),
    TEMPORAL_NAMESPACE: z.string().default("default"),
    TEMPORAL_TASK_QUEUE: z.string().default("tagih"),
    TAGIH_TEMPORAL_PORT: port.default(7233),
    TAGIH_TEMPORAL_UI_PORT: port.default(8233),
    PUBLIC_BASE_URL: url(["http:", "https:"]).optional(),
    TWILIO_ACCOUNT_SID: optionalText.pipe(
      z
        .string()
        .regex(/^AC[0-9a-fA-F]{32}$/, "must look like AC followed by 32 hex digits")
        .optional(),
    ),
    TWILIO_AUTH_TOKEN: optionalText,
    // A Twilio-compatible API (a vendor sandbox run separately) instead of api.twilio.com.
    TAGIH_TWILIO_API_URL: url(["http:", "https:"]).optional(),
    TWILIO_SMS_FROM: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 number")
      .default("+15005550006"),
    // WhatsApp sender (Twilio's WhatsApp sandbox number by default) and IVR caller id (the SMS number by default).
    TWILIO_WHATSAPP_FROM: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 number")
      .default("+14155238886"),
    TWILIO_VOICE_FROM: optionalText.pipe(
      z
        .string()
        .regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 number")
        .optional(),
    ),
    // The ops line: IVR "speak to an agent" dials it; voicemails and help replies name it.
    TAGIH_OPS_PHONE: optionalText.pipe(
      z
        .string()
        .regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 number")
        .optional(),
    ),
    // Payment page the IVR's "pay now" texts a link to (`<base>/<accountId>?attempt=<attemptId>`); unset: no such option.
    TAGIH_PAYMENT_LINK_BASE: url(["https:", "http:"]).optional(),
    // The person a limited-content voicemail names.
    TAGIH_VOICEMAIL_NAME: z.string().trim().min(1).max(60).default("Alex"),
    SENDGRID_API_KEY: optionalText,
    SENDGRID_WEBHOOK_PUBLIC_KEY: optionalText,
    SENDGRID_FROM_EMAIL: z.email().default("collections@example.com"),
    TAGIH_WORKER_CACHED_WORKFLOWS: z.coerce.number().int().min(1).default(150),
    // A workflow bundle built beforehand (`npm run build:workflows`); unset: built at start in a child process.
    TAGIH_WORKFLOW_BUNDLE: optionalText,
    TAGIH_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(10 * 1024 * 1024),
    TAGIH_WEBHOOK_SECRET: optionalText,
    // Agencies' endpoints and notify URLs: https on public addresses only, unless "allow".
    TAGIH_PRIVATE_ENDPOINTS: z.enum(["refuse", "allow"]).default("refuse"),
    // Shared with the payment gateway: its notifications are refused until this is set.
    TAGIH_PAYMENT_WEBHOOK_SECRET: optionalText.pipe(z.string().min(16, "must be at least 16 characters").optional()),
    // The first admin API key (stored by hash at start-up); unset: one is generated and printed once.
    TAGIH_ADMIN_API_KEY: optionalText.pipe(
      z
        .string()
        .regex(/^[\x21-\x7e]{32,255}$/, "must be 32 to 255 printable characters without spaces")
        .optional(),
    ),
    TAGIH_CREDITOR_NAME: z.string().trim().min(1).default("Tagih Demo Lender"),
    TAGIH_SANDBOX_PORT: port.default(3001),
    TAGIH_SANDBOX_SEED: z.coerce.number().int().default(1),
    // Outcome weights per channel for the sandbox, e.g. {"sms":{"delivered":90,"undelivered":10}}.
    TAGIH_SANDBOX_OUTCOMES: z
      .string()
      .default('{"sms":{"delivered":1}}')
      .transform((v, ctx) => {
        try {
          const parsed: unknown = JSON.parse(v);
          if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
        } catch {
          // reported below
        }
        ctx.addIssue({ code: "custom", message: 'must be a JSON object such as {"sms":{"delivered":90,"undelivered":10}}' });
        return z.NEVER;
      }),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.TWILIO_ACCOUNT_SID) !== Boolean(env.TWILIO_AUTH_TOKEN)) {
      ctx.addIssue({
        code: "custom",
        path: [env.TWILIO_ACCOUNT_SID ? "TWILIO_AUTH_TOKEN" : "TWILIO_ACCOUNT_SID"],
        message: "must be set together with the other Twilio credential",
      });
    }
    if (Boolean(env.SENDGRID_API_KEY) !== Boolean(env.SENDGRID_WEBHOOK_PUBLIC_KEY)) {
      ctx.addIssue({
        code: "custom",
        path: [env.SENDGRID_API_KEY ? "SENDGRID_WEBHOOK_PUBLIC_KEY" : "SENDGRID_API_KEY"],
        message: "must be set together with the other SendGrid credential",
      });
    }
  });

export type Env = z.infer<typeof schema>;

export interface Config {
  port: number;
  /** Which parts this process runs: both (default), or only the API or only the worker. */
  role: "all" | "api" | "worker";
  logLevel: Env["LOG_LEVEL"];
  dataDir: string;
  /** Absent: run the embedded PostgreSQL on `postgresPort`. */
  databaseUrl: string | undefined;
  postgresPort: number;
  /** Absent: run the Temporal dev server on `temporalPort` / `temporalUiPort`. */
  temporalAddress: string | undefined;
  temporalPort: number;
  temporalUiPort: number;
  namespace: string;
  taskQueue: string;
  /** The address vendors call back; webhook signatures are checked against it. */
  publicBaseUrl: string;
  /** Absent: Twilio requests go to the local vendor sandbox. */
  twilio: { accountSid: string; authToken: string; apiBaseUrl?: string } | undefined;
  smsFrom: string;
  whatsappFrom: string;
  /** Caller id of IVR calls. */
  voiceFrom: string;
  /** The ops line: "speak to an agent" dials it; absent: the IVR offers no agent. */
  opsPhone: string | undefined;
  /** Base of the payment links the IVR texts; absent: the IVR offers no "pay now". */
  paymentLinkBase: string | undefined;
  /** The person a limited-content voicemail names. */
  voicemailName: string;
  /** Absent: SendGrid requests go to the local vendor sandbox. */
  sendgrid: { apiKey: string; webhookPublicKey: string } | undefined;
  emailFrom: string;
  /** Larger request bodies are refused with 413. */
  maxBodyBytes: number;
  /**
   * Account workflows a worker keeps in memory (about 1 MB each). Most of them sleep for days,
   * so a small cache bounds memory; an evicted workflow is replayed when it wakes.
   */
  workerCachedWorkflows: number;
  /** The workflow bundle the worker loads; absent: built at start by a child process. */
  workflowBundle: string | undefined;
  /** Signs the notifications strategy actions send to external systems. */
  webhookSecret: string | undefined;
  /** Whether agencies' endpoints and notify URLs may be http or on private networks (`vendors/endpoints.ts`). */
  privateEndpoints: PrivateEndpoints;
  /** Verifies payment gateway notifications (X-Tagih-Signature); absent: they are refused with 503. */
  paymentWebhookSecret: string | undefined;
  /** The first admin API key; absent: the API generates one on first start and prints it once. */
  adminApiKey: string | undefined;
  /** The creditor named in messages to debtors. */
  creditorName: string;
  sandboxPort: number;
  sandboxSeed: number;
  /** Outcome weights per channel; checked by the sandbox when it starts. */
  sandboxOutcomes: Record<string, unknown>;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Reads and validates the configuration; a bad variable throws a ConfigError naming it.
 * @example loadConfig({ PORT: "8080" }).port // 8080
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}${describeValue(env, i.path)}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    role: e.TAGIH_ROLE,
    logLevel: e.LOG_LEVEL,
    dataDir: isAbsolute(e.TAGIH_DATA_DIR) ? e.TAGIH_DATA_DIR : resolve(e.TAGIH_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    postgresPort: e.TAGIH_POSTGRES_PORT,
    temporalAddress: e.TEMPORAL_ADDRESS,
    temporalPort: e.TAGIH_TEMPORAL_PORT,
    temporalUiPort: e.TAGIH_TEMPORAL_UI_PORT,
    namespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.TEMPORAL_TASK_QUEUE,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
    twilio:
      e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN
        ? { accountSid: e.TWILIO_ACCOUNT_SID, authToken: e.TWILIO_AUTH_TOKEN, ...(e.TAGIH_TWILIO_API_URL ? { apiBaseUrl: e.TAGIH_TWILIO_API_URL } : {}) }
        : undefined,
    smsFrom: e.TWILIO_SMS_FROM,
    whatsappFrom: e.TWILIO_WHATSAPP_FROM,
    voiceFrom: e.TWILIO_VOICE_FROM ?? e.TWILIO_SMS_FROM,
    opsPhone: e.TAGIH_OPS_PHONE,
    paymentLinkBase: e.TAGIH_PAYMENT_LINK_BASE?.replace(/\/+$/, ""),
    voicemailName: e.TAGIH_VOICEMAIL_NAME,
    sendgrid: e.SENDGRID_API_KEY && e.SENDGRID_WEBHOOK_PUBLIC_KEY ? { apiKey: e.SENDGRID_API_KEY, webhookPublicKey: e.SENDGRID_WEBHOOK_PUBLIC_KEY } : undefined,
    emailFrom: e.SENDGRID_FROM_EMAIL,
    adminApiKey: e.TAGIH_ADMIN_API_KEY,
    creditorName: e.TAGIH_CREDITOR_NAME,
    webhookSecret: e.TAGIH_WEBHOOK_SECRET,
    privateEndpoints: e.TAGIH_PRIVATE_ENDPOINTS,
    paymentWebhookSecret: e.TAGIH_PAYMENT_WEBHOOK_SECRET,
    maxBodyBytes: e.TAGIH_MAX_BODY_BYTES,
    workerCachedWorkflows: e.TAGIH_WORKER_CACHED_WORKFLOWS,
    workflowBundle: e.TAGIH_WORKFLOW_BUNDLE ? resolve(e.TAGIH_WORKFLOW_BUNDLE) : undefined,
    sandboxPort: e.TAGIH_SANDBOX_PORT,
    sandboxSeed: e.TAGIH_SANDBOX_SEED,
    sandboxOutcomes: e.TAGIH_SANDBOX_OUTCOMES,
  };
}

// Secrets are never echoed back, only the fact that the value was rejected.
function describeValue(env: Record<string, string | undefined>, path: PropertyKey[]): string {
  const name = String(path[0] ?? "");
  const value = env[name];
  if (value === undefined || /TOKEN|KEY|SECRET|DATABASE_URL/.test(name)) return "";
  return ` (got "${value}")`;
}
