import type { MailService } from "@sendgrid/mail";
import type { Account, Campaign } from "../../generated/prisma/client.ts";
import type { Database } from "../../runtime/database.ts";
import { applyPendingSendgridEvents, messageIdReportedFor } from "../../store/sendgrid-events.ts";
import { campaignTemplates, renderEmailTemplate, resolveTemplate, type RenderedEmail, contextFor, withUnsubscribeFooter } from "../../templates/render.ts";
import { classifyOwnError, NotSentError, vendorFailure, type VendorFailure } from "../vendor-errors.ts";
import type { ChannelSender } from "./types.ts";

/** Ends well inside the contact activity's 30 s start-to-close timeout, so a retry never races a request still in flight. */
const SEND_TIMEOUT_MS = 20_000;
/** SendGrid posts events within seconds (batched every few); a retry waits this long for them. */
const RECONCILE_WINDOW_MS = 5 * 60_000;

/**
 * Email through SendGrid's v3 Mail Send: subject, plain-text and HTML parts from the
 * account's locale's template (`templates/email/<locale>/<name>.hbs`, sections
 * `{{!-- subject --}}`, `{{!-- text --}}`, `{{!-- html --}}`), our attempt, account and
 * campaign ids as custom args (SendGrid echoes them in every event), and a one-click
 * unsubscribe link in the body and in `List-Unsubscribe` / `List-Unsubscribe-Post` (RFC 8058).
 * The vendor id is SendGrid's `X-Message-Id`; events carry it as the first part of `sg_message_id`.
 *
 * A retry that may follow an accepted send (`mayHaveSent`): SendGrid has no idempotency key
 * and no lookup of a send by custom args (its Email Activity API is a paid add-on, and the
 * sandbox has none), but its events carry our attempt id, so the retry looks for an event
 * about this attempt among the stored callbacks and takes its message id. Without one, it
 * sends only when the earlier try got an HTTP answer in this process (SendGrid refused it:
 * nothing was sent), or when no event arrived within 5 minutes of the earlier try (SendGrid
 * never accepted it); until then it fails transiently and Temporal retries with backoff. So
 * a duplicate email needs a lost answer (a timeout or crash mid-request) AND events delayed
 * past 5 minutes; a lost email needs nothing at all.
 * @example createEmailSender({ db, mail: createSendgridClient({ apiKey }), from: "collections@example.com", creditorName, unsubscribeUrl: (id) => unsubscribeUrl(base, secret, id) })
 */
export function createEmailSender(deps: {
  db: Database;
  mail: MailService;
  from: string;
  creditorName: string;
  /** The account's one-click unsubscribe URL (see api/routes/unsubscribe.ts). */
  unsubscribeUrl: (accountId: string) => string;
  /** How long a retry waits for events about an earlier try; tests shorten it. */
  reconcileWindowMs?: number;
}): ChannelSender {
  const { db, mail, from } = deps;
  const reconcileWindowMs = deps.reconcileWindowMs ?? RECONCILE_WINDOW_MS;
  mail.setTimeout(SEND_TIMEOUT_MS);
  // Attempts whose last try SendGrid answered with a 4xx (so it sent nothing), in this process.
  const refused = new Set<string>();
  return {
    vendor: "sendgrid",
    classify: classifySendgridError,
    applyPending: (messageId) => applyPendingSendgridEvents(db, messageId),
    async send({ attemptId, account, campaign, template, mayHaveSent, since }) {
      if (!account.email) throw new NotSentError("no-email", `account ${account.id} has no email address`);
      const link = deps.unsubscribeUrl(account.id);
      const email = await renderEmail(template, account, campaign, deps.creditorName, link);
      if (mayHaveSent && !refused.delete(attemptId)) {
        const earlier = await messageIdReportedFor(db, attemptId);
        if (earlier) return { vendorId: earlier, status: "queued" };
        if (Date.now() - since.getTime() < reconcileWindowMs) {
          throw Object.assign(new Error(`an earlier try of attempt ${attemptId} may have been sent; waiting for SendGrid's events`), {
            code: "awaiting-events",
          });
        }
      }
      let response;
      try {
        [response] = await mail.send({
          to: { email: account.email, name: account.name },
          from: { email: from, name: deps.creditorName },
          subject: email.subject,
          text: email.text,
          html: email.html,
          customArgs: { attemptId, accountId: account.id, campaignId: campaign.id },
          headers: { "List-Unsubscribe": `<${link}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
        });
      } catch (error) {
        const status = httpStatusOf(error);
        if (status !== undefined && status >= 400 && status < 500) {
          if (refused.size >= 10_000) refused.clear();
          refused.add(attemptId);
        }
        throw error;
      }
      const messageId = headerOf(response.headers, "x-message-id");
      // Accepted but unnamed: the retry finds the message id in SendGrid's events.
      if (!messageId) throw Object.assign(new Error("SendGrid accepted the email without an X-Message-Id"), { code: "no-message-id" });
      return { vendorId: messageId, status: "queued" };
    },
  };
}

/**
 * Classifies an error from a send: SendGrid's answer (a ResponseError whose `code` is the HTTP
 * status), a network error, or our own refusal (`NotSentError`). 429 and 5xx and network
 * errors are transient; any other 4xx is permanent, with the HTTP status (or our code) as code.
 * @example classifySendgridError({ code: 400, message: "Bad Request" }).transient // false
 */
export function classifySendgridError(error: unknown): VendorFailure {
  const own = classifyOwnError("sendgrid", error);
  if (own) return own;
  const e = error as { code?: unknown; message?: unknown; response?: { body?: { errors?: { message?: string; field?: string | null }[] } } };
  const status = httpStatusOf(error);
  const code = typeof e.code === "string" ? e.code : String(status ?? "network");
  const details = (e.response?.body?.errors ?? []).map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)).join("; ");
  const message = [typeof e.message === "string" ? e.message : String(error), details].filter(Boolean).join(": ");
  return vendorFailure("sendgrid", status, code, message);
}

/** The HTTP status of SendGrid's answer (ResponseError keeps it in `code`). */
function httpStatusOf(error: unknown): number | undefined {
  const e = error as { status?: unknown; code?: unknown } | null;
  if (typeof e?.status === "number") return e.status;
  return typeof e?.code === "number" ? e.code : undefined;
}

function headerOf(headers: unknown, name: string): string | undefined {
  const h = headers as { get?: (n: string) => unknown } & Record<string, unknown>;
  const value = typeof h?.get === "function" ? h.get(name) : h?.[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Renders the email for an account; a missing or broken template is a permanent failure
 * (`template-error`); the unsubscribe footer is added where the template lacks the link.
 */
async function renderEmail(template: string, account: Account, campaign: Campaign, creditor: string, unsubscribeUrl: string): Promise<RenderedEmail> {
  let email: RenderedEmail;
  try {
    const { body } = await resolveTemplate(template, "email", account.locale, campaignTemplates(campaign));
    email = renderEmailTemplate(body, {
      ...contextFor(account, creditor),
      unsubscribeUrl,
    });
  } catch (error) {
    throw new NotSentError("template-error", `email template "${template}" for ${account.locale}: ${(error as Error).message}`);
  }
  return withUnsubscribeFooter(email, unsubscribeUrl, account.locale);
}
