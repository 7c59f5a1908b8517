/**
 * What the Twilio Messages and Calls endpoints share: HTTP Basic auth, Twilio's JSON error
 * shape, sids, dates, phone-number checks and the form body.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";

export const API_VERSION = "2010-04-01";

export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

/** Twilio's error response: `{ code, message, more_info, status }`. */
export function twilioError(c: Context, status: 400 | 401 | 404 | 405, code: number, message: string): Response {
  const body: TwilioErrorBody = { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
  return c.json(body, status);
}

/**
 * Checks HTTP Basic auth against the account's sid and auth token, then that the account in
 * the path is that account. Mount on `/2010-04-01/Accounts/:accountSid/*`.
 */
export function twilioAuth(accountSid: string, authToken: string): MiddlewareHandler {
  const expected = digest(`${accountSid}:${authToken}`);
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Basic\s+(.+)$/i.exec(header);
    const given = match?.[1] ? Buffer.from(match[1], "base64").toString("utf8") : "";
    if (!timingSafeEqual(digest(given), expected)) {
      c.header("WWW-Authenticate", 'Basic realm="Twilio API"');
      return twilioError(c, 401, 20003, "Authenticate");
    }
    if (c.req.param("accountSid") !== accountSid) {
      return twilioError(c, 404, 20404, `The requested resource ${c.req.path} was not found`);
    }
    await next();
  };
}

/** `prefix` + 32 lowercase hex digits, e.g. `SM…`, `CA…`. */
export function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString("hex");
}

/** RFC 2822 as Twilio writes it: `Thu, 24 Aug 2023 05:01:45 +0000`. */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace(/GMT$/, "+0000");
}

export function isE164(number: string): boolean {
  return /^\+[1-9]\d{6,14}$/.test(number);
}

/** Splits `whatsapp:+62…` into its channel prefix and address. */
export function splitAddress(value: string): { prefix: string | null; address: string } {
  const colon = value.indexOf(":");
  return colon > 0 ? { prefix: value.slice(0, colon), address: value.slice(colon + 1) } : { prefix: null, address: value };
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

export async function readForm(c: Context): Promise<URLSearchParams> {
  return new URLSearchParams(await c.req.text());
}

/** Form fields that are present and not empty. */
export function field(form: URLSearchParams, name: string): string | null {
  const value = form.get(name);
  return value === null || value === "" ? null : value;
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/**
 * One page of a Twilio list resource holding every match (the sandbox never pages further):
 * the resources under `key` and Twilio's paging fields, so the SDK's `list()` stops here.
 */
export function listPage(key: string, resources: Record<string, unknown>[], uri: string): Record<string, unknown> {
  return {
    [key]: resources,
    end: Math.max(resources.length - 1, 0),
    first_page_uri: uri,
    next_page_uri: null,
    previous_page_uri: null,
    page: 0,
    page_size: resources.length,
    start: 0,
    uri,
  };
}
