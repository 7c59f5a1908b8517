/**
 * SendGrid Mail Send v3: `POST /v3/mail/send` checks the bearer key and validates the body like
 * SendGrid (400 `{ errors: [{ message, field, help }] }`), answers 202 with `X-Message-Id`, then
 * posts the signed event webhook batches to `sendgridEventsUrl` (retried up to 3 times on
 * failure, as SendGrid retries). `mail_settings.sandbox_mode` is honoured: 200, no delivery.
 */
import { randomBytes } from "node:crypto";
import { Hono } from "hono";
import { batches, recipientEvents } from "./sendgrid-events.ts";
import { maskEmail } from "./mask.ts";
import { maybePay } from "./payments.ts";
import { sendgridRequest } from "./signing.ts";
import type { Context } from "hono";
import type { SandboxContext } from "./context.ts";
import type { SendgridEvent } from "./sendgrid-events.ts";
import type { SandboxEmail, SandboxEmailRecipient } from "./types.ts";

interface Address {
  email?: unknown;
  name?: unknown;
}
interface Personalization {
  to?: Address[];
  cc?: Address[];
  bcc?: Address[];
  subject?: unknown;
  custom_args?: Record<string, unknown>;
}
interface MailBody {
  personalizations?: Personalization[];
  from?: Address;
  subject?: unknown;
  content?: Array<{ type?: unknown; value?: unknown }>;
  template_id?: unknown;
  custom_args?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  categories?: unknown[];
  asm?: { group_id?: unknown };
  mail_settings?: { sandbox_mode?: { enable?: unknown } };
}
interface FieldError {
  message: string;
  field: string | null;
  help: null;
}

const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

export function sendgridRoutes(ctx: SandboxContext): Hono {
  const app = new Hono();
  app.post("/v3/mail/send", (c) => send(c, ctx));
  return app;
}

async function send(c: Context, ctx: SandboxContext): Promise<Response> {
  if (!/^Bearer\s+\S+/i.test(c.req.header("authorization") ?? "")) {
    return errors(c, 401, [{ message: "The provided authorization grant is invalid, expired, or revoked", field: null, help: null }]);
  }
  let body: MailBody;
  try {
    body = JSON.parse(await c.req.text()) as MailBody;
  } catch {
    return errors(c, 400, [{ message: "Bad Request", field: null, help: null }]);
  }
  if (typeof body !== "object" || body === null) return errors(c, 400, [{ message: "Bad Request", field: null, help: null }]);
  const problems = validate(body);
  if (problems.length > 0) return errors(c, 400, problems);

  const email = record(body);
  ctx.store.emails.push(email);
  if (email.sandboxMode) return c.body(null, 200);

  const rng = ctx.rng.fork();
  const mix = ctx.outcomes();
  const startedAt = Math.floor(Date.now() / 1000);
  const perRecipient: SendgridEvent[][] = email.recipients.map((recipient) => {
    const personalization = body.personalizations?.[recipient.personalization] ?? {};
    const planned = recipientEvents(
      rng,
      mix,
      {
        email: recipient.email,
        sgMessageId: recipient.sgMessageId,
        smtpId: `<${email.messageId}@ismtpd-sandbox>`,
        customArgs: { ...email.customArgs, ...strings(personalization.custom_args) },
        categories: email.categories,
        asmGroupId: typeof body.asm?.group_id === "number" ? body.asm.group_id : null,
        clickUrl: firstLink(email.content),
      },
      startedAt,
    );
    recipient.outcome = planned.outcome;
    recipient.events = planned.events.map((e) => e.event);
    return planned.events;
  });
  ctx.logger.info(
    {
      messageId: email.messageId,
      recipients: email.recipients.map((r) => maskEmail(r.email)),
      outcomes: email.recipients.map((r) => r.outcome),
    },
    "sandbox email received",
  );
  const eventsUrl = ctx.sendgrid.eventsUrl;
  if (eventsUrl) {
    const planned = batches(perRecipient).map((batch) => (ctx.queue.reorder ? rng.shuffle(batch) : batch));
    ctx.queue.run(async () => {
      for (const { item, duplicate } of ctx.queue.plan(planned, rng)) {
        await ctx.queue.wait(rng);
        await ctx.queue.send(sendgridRequest(ctx.sendgrid.privateKeyPem, email.messageId, eventsUrl, item), {
          duplicate,
          attempts: 3,
        });
      }
      // Our sends carry one recipient each, known to us by the X-Message-Id.
      if (email.recipients.some((r) => r.outcome === "delivered")) await maybePay(ctx, rng, { channel: "email", vendorId: email.messageId });
    });
  }
  return c.body(null, 202, { "X-Message-Id": email.messageId });
}

function validate(body: MailBody): FieldError[] {
  const out: FieldError[] = [];
  const add = (message: string, field: string | null) => out.push({ message, field, help: null });
  const ps = body.personalizations;
  if (!Array.isArray(ps) || ps.length === 0) {
    add("The personalizations field is required and must have at least one personalization.", "personalizations");
  } else {
    ps.forEach((p, i) => {
      if (!Array.isArray(p.to) || p.to.length === 0) {
        add(
          "The to array is required for all personalization objects, and must have at least one email object with a valid email address.",
          `personalizations.${i}.to`,
        );
      }
      for (const kind of ["to", "cc", "bcc"] as const) {
        (p[kind] ?? []).forEach((a, j) => {
          if (typeof a?.email !== "string" || !EMAIL.test(a.email)) add("Does not contain a valid address.", `personalizations.${i}.${kind}.${j}.email`);
        });
      }
    });
  }
  if (typeof body.from?.email !== "string" || !EMAIL.test(body.from.email)) {
    add(
      "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.",
      "from.email",
    );
  }
  const template = typeof body.template_id === "string" && body.template_id !== "";
  const everySubject = Array.isArray(ps) && ps.length > 0 && ps.every((p) => typeof p.subject === "string" && p.subject !== "");
  if (!template && !everySubject && (typeof body.subject !== "string" || body.subject === "")) {
    add(
      "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.",
      "subject",
    );
  }
  const content = Array.isArray(body.content) ? body.content : [];
  if (!template && !content.some((block) => typeof block?.value === "string" && block.value !== "")) {
    add(
      "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.",
      "content",
    );
  }
  return out;
}

function record(body: MailBody): SandboxEmail {
  const messageId = randomBytes(16).toString("base64url");
  const stamp = Math.floor(Date.now() / 1000)
    .toString(16)
    .toUpperCase();
  const recipients: SandboxEmailRecipient[] = [];
  (body.personalizations ?? []).forEach((p, i) => {
    for (const a of [...(p.to ?? []), ...(p.cc ?? []), ...(p.bcc ?? [])]) {
      recipients.push({
        email: String(a.email),
        personalization: i,
        sgMessageId: `${messageId}.filterdrecv-sandbox-1-${stamp}-${recipients.length}.0`,
        outcome: "delivered",
        events: [],
      });
    }
  });
  return {
    messageId,
    from: body.from,
    subject: typeof body.subject === "string" ? body.subject : null,
    templateId: typeof body.template_id === "string" ? body.template_id : null,
    personalizations: body.personalizations ?? [],
    customArgs: strings(body.custom_args),
    headers: strings(body.headers),
    content: body.content ?? [],
    categories: (body.categories ?? []).map(String),
    sandboxMode: body.mail_settings?.sandbox_mode?.enable === true,
    createdAt: new Date().toISOString(),
    recipients,
  };
}

function strings(values: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(values ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

function firstLink(content: unknown[]): string {
  for (const block of content) {
    const value = (block as { value?: unknown })?.value;
    const match = typeof value === "string" ? /https?:\/\/[^\s"'<>]+/.exec(value) : null;
    if (match) return match[0];
  }
  return "https://example.com/";
}

function errors(c: Context, status: 400 | 401, list: FieldError[]): Response {
  return c.json({ errors: list }, status);
}
