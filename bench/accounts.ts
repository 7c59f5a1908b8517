// The portfolio a run enrols: N US accounts of a product no other run uses, in a time zone
// where contacting is lawful now, imported through the product's own API.
import { US } from "../domain/compliance/policies/US.ts";
import { authorization } from "./api-key.ts";

const BATCH = 1000;
const IN_FLIGHT = 2;
/** US permitted contact hours (12 CFR 1006.6(b)(1)(i)), local time. */
const OPEN_MINUTE = 8 * 60;
const CLOSE_MINUTE = 21 * 60;

export interface ZoneChoice {
  zone: string;
  /** Local time there, "HH:MM". */
  localTime: string;
  /** Whether that is inside the permitted window, and for how many more minutes. */
  inside: boolean;
  minutesLeft: number;
}

/** The US zone whose local time is deepest inside 08:00–21:00 right now. */
export function chooseUsTimeZone(now = new Date()): ZoneChoice {
  const choices = US.timeZones.map((zone) => {
    const [hour, minute] = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .format(now)
      .split(":")
      .map(Number) as [number, number];
    const local = hour * 60 + minute;
    return {
      zone,
      localTime: `${pad(hour, 2)}:${pad(minute, 2)}`,
      minutesLeft: CLOSE_MINUTE - local,
      margin: Math.min(local - OPEN_MINUTE, CLOSE_MINUTE - local),
    };
  });
  const best = choices.sort((a, b) => b.margin - a.margin)[0]!;
  return { zone: best.zone, localTime: best.localTime, inside: best.margin > 0, minutesLeft: best.minutesLeft };
}

/**
 * Asks the product's compliance gate (`POST /v1/compliance/evaluate`, no stored data
 * touched) whether an SMS to such an account is lawful now; a one-line answer for the report.
 */
export async function askGate(apiUrl: string, zone: string): Promise<string> {
  const response = await fetch(`${apiUrl}/v1/compliance/evaluate`, {
    method: "POST",
    headers: { "content-type": "application/json", ...authorization },
    body: JSON.stringify({ jurisdiction: "US", timeZone: zone, channel: "sms", at: new Date().toISOString(), consent: { autodialedCalls: true } }),
  }).catch((error: unknown) => ({ status: 0, text: () => Promise.resolve(String(error)) }));
  const text = await response.text();
  if (response.status === 404) return "this version has no POST /v1/compliance/evaluate";
  if (response.status !== 200) return `POST /v1/compliance/evaluate answered ${response.status}: ${text.slice(0, 300)}`;
  const decision = JSON.parse(text) as { allowed: boolean; reasons: { rule: string; detail: string }[]; nextAllowedAt: string | null };
  return decision.allowed
    ? "the compliance gate allows an SMS with autodialled-call consent now"
    : `the compliance gate BLOCKS it: ${decision.reasons.map((r) => `${r.rule}: ${r.detail}`).join("; ")} (next allowed ${decision.nextAllowedAt ?? "never"})`;
}

export interface ImportResult {
  seconds: number;
  /** Whether the API took the `consent` field (US SMS needs autodialled-call consent under the TCPA). */
  consentAccepted: boolean;
}

/** Imports `count` accounts with `POST /v1/accounts`, 1000 per request, two requests in flight. */
export async function importAccounts(options: { apiUrl: string; count: number; product: string; zone: string }): Promise<ImportResult> {
  const { apiUrl, count, product, zone } = options;
  const t0 = performance.now();
  let consentAccepted = true;
  let next = 0;
  const send = async (from: number, to: number) => {
    const accounts = Array.from({ length: to - from }, (_, k) => account(from + k, product, zone, consentAccepted));
    let response = await post(apiUrl, accounts);
    if (response.status === 400 && consentAccepted && /consent/i.test(response.text)) {
      // The accounts API of this version does not know consent yet: import without it.
      consentAccepted = false;
      response = await post(
        apiUrl,
        accounts.map(({ consent: _consent, ...rest }) => rest),
      );
    }
    if (response.status !== 200) throw new Error(`POST /v1/accounts answered ${response.status}: ${response.text.slice(0, 1000)}`);
  };
  // The first batch alone, so a consent refusal is learnt once.
  await send(0, Math.min(BATCH, count));
  next = Math.min(BATCH, count);
  const lane = async () => {
    while (next < count) {
      const from = next;
      next = Math.min(next + BATCH, count);
      await send(from, next);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return { seconds: (performance.now() - t0) / 1000, consentAccepted };
}

function account(i: number, product: string, zone: string, withConsent: boolean) {
  return {
    externalId: `${product}-${i}`,
    name: `Bench Debtor ${i}`,
    phone: `(212) ${200 + (Math.floor(i / 10_000) % 800)}-${pad(i % 10_000, 4)}`,
    jurisdiction: "US",
    timeZone: zone,
    locale: "en-US",
    product,
    currency: "USD",
    balanceMinor: 25_000 + (i % 500) * 100,
    daysPastDue: 1 + (i % 90),
    dueDate: "2026-12-31",
    ...(withConsent ? { consent: { autodialedCalls: true } } : {}),
  };
}

async function post(apiUrl: string, accounts: unknown[]): Promise<{ status: number; text: string }> {
  const response = await fetch(`${apiUrl}/v1/accounts`, {
    method: "POST",
    headers: { "content-type": "application/json", ...authorization },
    body: JSON.stringify({ accounts }),
  });
  return { status: response.status, text: await response.text() };
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");
