import { ApplicationFailure } from "@temporalio/common";
import { TemplateError } from "../templates/render.ts";

export interface VendorFailure {
  /** Timeouts, throttling and server errors: retry with backoff. Anything else: do not. */
  transient: boolean;
  /** The vendor's own error code when it gave one, else the HTTP status or network code. */
  code: string;
  message: string;
  /** False when we refused before calling the vendor: nothing was sent, nothing is billed. */
  reachedVendor: boolean;
  asRetryable(context: Record<string, string>): ApplicationFailure;
}

/**
 * Classifies an error thrown by the twilio SDK (a RestException with the HTTP status and
 * Twilio's error code, or a network error).
 * @example classifyTwilioError({ status: 400, code: 21211, message: "Invalid 'To'" }).transient // false
 */
export function classifyTwilioError(error: unknown): VendorFailure {
  const own = classifyOwnError("twilio", error);
  if (own) return own;
  const e = error as { status?: number; code?: number | string; message?: string };
  const status = typeof e.status === "number" ? e.status : undefined;
  return vendorFailure("twilio", status, String(e.code ?? status ?? "network"), e.message ?? String(error));
}

/**
 * A refusal of ours before the vendor is called (no address to send to, a template that
 * cannot render): permanent, and never handed to the vendor.
 * @example throw new NotSentError("no-email", `account ${account.id} has no email address`)
 */
export class NotSentError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "NotSentError";
  }
}

/**
 * An error of ours before the vendor was called, which no retry can mend: a template missing
 * or not rendering for the account is permanent (`template-error`), so the attempt fails and
 * the step goes on to its fallbacks. Without this it would look like a network error (no HTTP
 * status) and be retried for ever, the attempt stuck in `dispatching`.
 * @example classifyOwnError("twilio", new TemplateNotFoundError("no sms template …"))?.transient // false
 */
export function classifyOwnError(vendor: string, error: unknown): VendorFailure | undefined {
  const notSent = (code: string, message: string) => ({ ...vendorFailure(vendor, 422, code, message), reachedVendor: false });
  if (error instanceof TemplateError) return notSent("template-error", error.message);
  if (error instanceof NotSentError) return notSent(error.code, error.message);
  return undefined;
}

/**
 * A vendor's answer as a failure: throttling (429), server errors and no answer at all
 * (network) are transient; any other status is permanent.
 * @example vendorFailure("sendgrid", 503, "503", "Service Unavailable").transient // true
 */
export function vendorFailure(vendor: string, status: number | undefined, code: string, message: string): VendorFailure {
  return {
    transient: status === undefined || status === 429 || status >= 500,
    code,
    message,
    reachedVendor: true,
    asRetryable: (context) =>
      ApplicationFailure.retryable(
        `${vendor} ${code}: ${message} (${Object.entries(context)
          .map(([k, v]) => `${k}=${v}`)
          .join(", ")})`,
        "VendorTransientError",
        { vendor, code, ...context },
      ),
  };
}
