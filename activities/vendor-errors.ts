import { ApplicationFailure } from "@temporalio/common";

export interface VendorFailure {
  /** Timeouts, throttling and server errors: retry with backoff. Anything else: do not. */
  transient: boolean;
  /** The vendor's own error code when it gave one, else the HTTP status or network code. */
  code: string;
  message: string;
  asRetryable(context: Record<string, string>): ApplicationFailure;
}

/**
 * Classifies an error thrown by the twilio SDK (a RestException with the HTTP status and
 * Twilio's error code, or a network error).
 * @example classifyTwilioError({ status: 400, code: 21211, message: "Invalid 'To'" }).transient // false
 */
export function classifyTwilioError(error: unknown): VendorFailure {
  const e = error as { status?: number; code?: number | string; message?: string };
  const status = typeof e.status === "number" ? e.status : undefined;
  const transient = status === undefined || status === 429 || status >= 500;
  const code = String(e.code ?? status ?? "network");
  const message = e.message ?? String(error);
  return {
    transient,
    code,
    message,
    asRetryable: (context) =>
      ApplicationFailure.retryable(
        `twilio ${code}: ${message} (${Object.entries(context)
          .map(([k, v]) => `${k}=${v}`)
          .join(", ")})`,
        "VendorTransientError",
        { vendor: "twilio", code, ...context },
      ),
  };
}
