/**
 * One outbound call, played out: progress callbacks (initiated, ringing, answered — each when
 * subscribed in StatusCallbackEvent; the final one always), answering machine detection, the
 * TwiML conversation (fetch `Url`, follow `<Gather action>` with the drawn keypresses and
 * `<Redirect>`), and the final status with its duration. Every request is signed as Twilio
 * signs it. With `reorder`, the status callbacks go out shuffled once the call has ended.
 */
import { maybePay } from "./payments.ts";
import { parseTwiml } from "./twiml.ts";
import { twilioRequest } from "./signing.ts";
import { API_VERSION, isHttpUrl, rfc2822 } from "./twilio-common.ts";
import type { OutgoingRequest } from "./callbacks.ts";
import type { SandboxContext } from "./context.ts";
import type { Rng } from "./random.ts";
import type { CallbackKind, CallStatus, SandboxCall } from "./types.ts";
import type { TwimlVerb } from "./twiml.ts";

const MAX_TWIML_FETCHES = 25;
const EVENT_OF: Partial<Record<CallStatus, string>> = {
  initiated: "initiated",
  ringing: "ringing",
  "in-progress": "answered",
};
const SIP_CODE: Partial<Record<CallStatus, string>> = {
  completed: "200",
  busy: "486",
  "no-answer": "487",
  failed: "500",
};

interface Doc {
  xml: string;
  /** The URL the TwiML came from; relative actions resolve against it. */
  url: string | null;
}

export async function runCall(ctx: SandboxContext, call: SandboxCall, rng: Rng, digits: string[]): Promise<void> {
  const flow = new CallFlow(ctx, call, rng, digits);
  await flow.run();
}

class CallFlow {
  private sequence = 0;
  private readonly buffered: OutgoingRequest[] = [];

  constructor(
    private readonly ctx: SandboxContext,
    private readonly call: SandboxCall,
    private readonly rng: Rng,
    private readonly digits: string[],
  ) {}

  async run(): Promise<void> {
    const { call } = this;
    await this.status("initiated");
    if (call.outcome === "failed" || call.outcome === "busy") return this.finish(call.outcome, 0);
    await this.status("ringing");
    if (call.outcome === "no-answer") return this.finish("no-answer", 0);
    const amd = call.machineDetection === "Enable" || call.machineDetection === "DetectMessageEnd";
    if (amd) call.answeredBy = this.answeredBy();
    await this.status("in-progress");
    const seconds = await this.converse(amd);
    await this.finish("completed", seconds);
    if (call.outcome === "completed") await maybePay(this.ctx, this.rng, { channel: "voice", vendorId: call.sid });
  }

  private answeredBy(): string {
    if (this.call.outcome !== "machine") return "human";
    return this.call.machineDetection === "DetectMessageEnd" ? "machine_end_beep" : "machine_start";
  }

  /** Walks the TwiML; returns the call's duration in seconds. */
  private async converse(amd: boolean): Promise<number> {
    const { call } = this;
    const human = call.outcome === "completed";
    const keys = human ? [...this.digits] : [];
    const first: Record<string, string> = amd && !call.asyncAmd && call.answeredBy ? { AnsweredBy: call.answeredBy } : {};
    let doc: Doc | null = call.twiml ? { xml: call.twiml, url: null } : await this.fetch("voice-url", call.url ?? "", first);
    if (amd && call.asyncAmd && call.asyncAmdStatusCallback) await this.amdResult(call.asyncAmdStatusCallback);
    let seconds = 2;
    for (let fetches = 1; doc && fetches <= MAX_TWIML_FETCHES; fetches++) {
      const step = this.interpret(parseTwiml(doc.xml), doc.url, keys);
      seconds += step.seconds;
      if (!step.next) break;
      doc = await this.fetch(step.next.kind, step.next.url, step.next.params);
    }
    return seconds;
  }

  /** Plays the verbs of one document until one hands over to another URL. */
  private interpret(
    verbs: TwimlVerb[],
    base: string | null,
    keys: string[],
  ): { seconds: number; next?: { kind: CallbackKind; url: string; params: Record<string, string> } } {
    let seconds = 0;
    for (const verb of verbs) {
      const a = verb.attributes;
      switch (verb.name) {
        case "Say":
          seconds += speakingTime(verb.text);
          break;
        case "Play":
          seconds += 5;
          break;
        case "Pause":
          seconds += Number(a.length ?? 1) || 1;
          break;
        case "Hangup":
        case "Reject":
          return { seconds };
        case "Redirect": {
          const url = resolve(verb.text, base);
          return url ? { seconds, next: { kind: "redirect", url, params: {} } } : { seconds };
        }
        case "Gather": {
          seconds += speakingTime(verb.text);
          const entry = (a.input ?? "dtmf").includes("dtmf") ? keys.shift() : undefined;
          if (entry === undefined) {
            seconds += Number(a.timeout ?? 5) || 5;
            continue;
          }
          const pressed = press(entry, a.finishOnKey ?? "#", Number(a.numDigits) || undefined);
          this.call.digitsSent.push(pressed.digits);
          seconds += pressed.digits.length + 1;
          const url = resolve(a.action ?? base ?? "", base);
          if (!url) return { seconds };
          return {
            seconds,
            next: { kind: "gather", url, params: { Digits: pressed.digits, FinishedOnKey: pressed.finishedOnKey } },
          };
        }
        default:
          seconds += 1;
      }
    }
    return { seconds };
  }

  private params(): Record<string, string> {
    const { call } = this;
    return {
      AccountSid: call.accountSid,
      ApiVersion: API_VERSION,
      CallSid: call.sid,
      CallStatus: call.status,
      Called: call.to,
      Caller: call.from,
      Direction: "outbound-api",
      From: call.from,
      To: call.to,
    };
  }

  /** Requests TwiML (never duplicated: Twilio waits for the answer). Null when the app fails. */
  private async fetch(kind: CallbackKind, url: string, extra: Record<string, string>): Promise<Doc | null> {
    await this.ctx.queue.wait(this.rng);
    const request = twilioRequest(this.ctx.twilio.authToken, kind, this.call.sid, url, { ...this.params(), ...extra });
    const response = await this.ctx.queue.send(request);
    if (!response || response.statusCode >= 300 || !/<Response\b/.test(response.body)) {
      this.ctx.logger.warn({ sid: this.call.sid, kind, status: response?.statusCode ?? null }, "sandbox call: application error, hanging up");
      return null;
    }
    return { xml: response.body, url };
  }

  private async amdResult(url: string): Promise<void> {
    const params = {
      AccountSid: this.call.accountSid,
      CallSid: this.call.sid,
      AnsweredBy: this.call.answeredBy ?? "unknown",
      MachineDetectionDuration: String(this.rng.int(1500, 4500)),
    };
    await this.ctx.queue.deliver(twilioRequest(this.ctx.twilio.authToken, "amd-status", this.call.sid, url, params), this.rng);
  }

  private async status(status: CallStatus, extra: Record<string, string> = {}): Promise<void> {
    const { call, ctx } = this;
    await ctx.queue.wait(this.rng);
    call.status = status;
    call.updatedAt = new Date().toISOString();
    const event = EVENT_OF[status];
    if (!call.statusCallback || (event && !call.statusCallbackEvents.includes(event))) return;
    const params = {
      ...this.params(),
      CallbackSource: "call-progress-events",
      SequenceNumber: String(this.sequence++),
      Timestamp: rfc2822(new Date()),
      ...extra,
    };
    const request = twilioRequest(ctx.twilio.authToken, "call-status", call.sid, call.statusCallback, params);
    if (ctx.queue.reorder) this.buffered.push(request);
    else for (const { duplicate } of ctx.queue.plan([request], this.rng)) await ctx.queue.send(request, { duplicate });
  }

  private async finish(status: CallStatus, seconds: number): Promise<void> {
    const { call } = this;
    call.duration = seconds;
    if (status === "completed") call.price = (-0.014 * Math.ceil(seconds / 60)).toFixed(5);
    const extra: Record<string, string> = {
      CallDuration: String(seconds),
      Duration: String(Math.ceil(seconds / 60)),
      SipResponseCode: SIP_CODE[status] ?? "500",
    };
    if (call.answeredBy) extra.AnsweredBy = call.answeredBy;
    await this.status(status, extra);
    for (const { item, duplicate } of this.ctx.queue.plan(this.buffered, this.rng)) {
      await this.ctx.queue.wait(this.rng);
      await this.ctx.queue.send(item, { duplicate });
    }
  }
}

/** What a caller's keypad sends: up to numDigits, or until the finishOnKey. */
function press(entry: string, finishOnKey: string, numDigits?: number): { digits: string; finishedOnKey: string } {
  const keys = entry.replace(/w/g, "");
  const end = finishOnKey ? keys.indexOf(finishOnKey) : -1;
  const digits = end >= 0 ? keys.slice(0, end) : keys;
  if (numDigits !== undefined && digits.length >= numDigits) return { digits: digits.slice(0, numDigits), finishedOnKey: "" };
  return { digits, finishedOnKey: end >= 0 ? finishOnKey : "" };
}

function speakingTime(text: string): number {
  return text ? Math.ceil(text.split(/\s+/).length / 2.5) : 0;
}

/** An absolute URL is kept exactly as written (it is what gets signed); a relative one resolves against the document. */
function resolve(target: string, base: string | null): string | null {
  const trimmed = target.trim();
  if (isHttpUrl(trimmed)) return trimmed;
  if (!base || !trimmed) return null;
  return new URL(trimmed, base).toString();
}
