import { z } from "@hono/zod-openapi";

// Twilio's callback fields, each bounded to what Twilio sends. Every request is stored, and
// the ids of stored events are built from some of these fields: a value past PostgreSQL's
// index entry limit (about 2.7 kB) would fail the statement, and with it the batch it joined.

/** As TWILIO_ACCOUNT_SID is configured: upper-case hex allowed. */
export const accountSid = z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be a Twilio account SID");
export const messageSid = z.string().regex(/^(SM|MM)[0-9a-f]{32}$/, "must be a Twilio message SID");
export const callSid = z.string().regex(/^CA[0-9a-f]{32}$/, "must be a Twilio call SID");

/**
 * A status or detection result ("delivered", "in-progress", "machine_end_beep"). Any word
 * is taken: one we do not know is stored and ignored, as a status Twilio adds later would be.
 */
export const statusWord = z.string().regex(/^[a-z_-]{1,32}$/i, "must be one word of at most 32 letters, '-' or '_'");

/** Twilio's error codes are five digits; room to spare. */
export const errorCode = z.string().max(16);
