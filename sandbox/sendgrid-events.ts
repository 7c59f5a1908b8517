/**
 * SendGrid event webhook payloads: what happens to each recipient of a send (drawn from the
 * mix), as the events SendGrid posts — processed, then delivered | bounce | dropped |
 * deferred (+ delivered), then open / click / unsubscribe / spamreport — with every custom
 * arg at the top level of each event.
 */
import { randomBytes } from "node:crypto";
import { drawEmail, drawEngagement } from "./outcomes.ts";
import type { Rng } from "./random.ts";
import type { EmailDeliveryOutcome, OutcomeMix } from "./types.ts";

export type SendgridEvent = Record<string, unknown> & { email: string; event: string; timestamp: number };

export interface RecipientInput {
  email: string;
  sgMessageId: string;
  smtpId: string;
  customArgs: Record<string, string>;
  categories: string[];
  asmGroupId: number | null;
  clickUrl: string;
}

export interface RecipientEvents {
  outcome: EmailDeliveryOutcome;
  /** In the order they happen; timestamps one second apart from `startedAt`. */
  events: SendgridEvent[];
}

const OPENER = {
  useragent: "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
  ip: "66.249.84.21",
};

export function recipientEvents(rng: Rng, mix: OutcomeMix, r: RecipientInput, startedAt: number): RecipientEvents {
  const outcome = drawEmail(rng, mix);
  const steps: Array<Record<string, unknown> & { event: string }> = [];
  const delivered = { event: "delivered", response: "250 2.0.0 OK", ip: "149.72.154.232", tls: 1, "smtp-id": r.smtpId };
  switch (outcome) {
    case "dropped":
      steps.push({ event: "dropped", reason: "Bounced Address", status: "5.0.0", "smtp-id": r.smtpId });
      break;
    case "bounce":
      steps.push({ event: "processed", "smtp-id": r.smtpId });
      steps.push({
        event: "bounce",
        type: "bounce",
        reason: "550 5.1.1 The email account that you tried to reach does not exist.",
        status: "5.1.1",
        bounce_classification: "Invalid Address",
        ip: "149.72.154.232",
        tls: 1,
        "smtp-id": r.smtpId,
      });
      break;
    case "deferred":
      steps.push({ event: "processed", "smtp-id": r.smtpId });
      steps.push({
        event: "deferred",
        response: "421 4.7.0 Try again later",
        attempt: "1",
        ip: "149.72.154.232",
        "smtp-id": r.smtpId,
      });
      steps.push(delivered);
      break;
    case "delivered":
      steps.push({ event: "processed", "smtp-id": r.smtpId });
      steps.push(delivered);
      break;
  }
  if (outcome === "delivered" || outcome === "deferred") {
    for (const engagement of drawEngagement(rng, mix)) {
      if (engagement === "open") steps.push({ event: "open", sg_machine_open: false, ...OPENER });
      else if (engagement === "click") {
        steps.push({ event: "click", url: r.clickUrl, url_offset: { index: 0, type: "html" }, ...OPENER });
      } else if (engagement === "unsubscribe" && r.asmGroupId !== null) steps.push({ event: "group_unsubscribe", ...OPENER });
      else steps.push({ event: engagement });
    }
  }
  return { outcome, events: steps.map((step, i) => event(r, step, startedAt + i)) };
}

function event(r: RecipientInput, step: Record<string, unknown> & { event: string }, timestamp: number): SendgridEvent {
  const standard: Record<string, unknown> = {
    email: r.email,
    timestamp,
    sg_event_id: randomBytes(16).toString("base64"),
    sg_message_id: r.sgMessageId,
  };
  if (r.categories.length > 0) standard.category = r.categories.length === 1 ? r.categories[0] : r.categories;
  if (r.asmGroupId !== null) standard.asm_group_id = r.asmGroupId;
  // Custom args first: SendGrid's own fields win a name clash.
  return { ...r.customArgs, ...standard, ...step } as SendgridEvent;
}

/** The k-th batch holds every recipient's k-th event: what SendGrid tends to post together. */
export function batches(perRecipient: SendgridEvent[][]): SendgridEvent[][] {
  const longest = Math.max(0, ...perRecipient.map((events) => events.length));
  return Array.from({ length: longest }, (_, k) => perRecipient.flatMap((events) => (events[k] ? [events[k]] : [])));
}
