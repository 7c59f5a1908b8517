/**
 * The delivery queue: every request the sandbox makes to our webhooks goes through it. It waits
 * the configured delay, plans duplicates and shuffles, rewrites the host when `deliverTo` is
 * set, records every attempt, and tracks the background flows so `idle()` knows when the
 * sandbox has nothing left to say.
 */
import type { Rng } from "./random.ts";
import type { CallbackKind, SandboxCallbackRecord, SandboxLogger } from "./types.ts";

export interface OutgoingRequest {
  kind: CallbackKind;
  resourceId: string;
  /** The URL as the vendor was given it; signatures cover this one. */
  url: string;
  body: string;
  /** Computed at each attempt (SendGrid signs a fresh timestamp). */
  headers(): Record<string, string>;
}

export interface Delivered {
  statusCode: number;
  body: string;
}

export interface CallbackQueueOptions {
  deliverTo?: string;
  delayMs?: number | { min: number; max: number };
  duplicates?: number;
  reorder?: boolean;
  logger: SandboxLogger;
}

const REQUEST_TIMEOUT_MS = 15_000;
const RESPONSE_LIMIT = 64 * 1024;

class QueueClosed extends Error {}

export class CallbackQueue {
  readonly records: SandboxCallbackRecord[] = [];
  private pending = 0;
  private waiters: Array<() => void> = [];
  private timers = new Map<NodeJS.Timeout, () => void>();
  private readonly abort = new AbortController();

  constructor(private readonly options: CallbackQueueOptions) {}

  /** Runs a flow in the background; `idle()` waits for it. */
  run(flow: () => Promise<void>): void {
    this.pending++;
    flow()
      .catch((err: unknown) => {
        if (!(err instanceof QueueClosed)) this.options.logger.warn({ err: String(err) }, "sandbox flow failed");
      })
      .finally(() => {
        this.pending--;
        if (this.pending === 0) this.waiters.splice(0).forEach((resolve) => resolve());
      });
  }

  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Waits the configured delay (drawn from `rng` when it is a range). */
  wait(rng: Rng): Promise<void> {
    const d = this.options.delayMs ?? 0;
    return this.sleep(typeof d === "number" ? d : rng.int(d.min, d.max));
  }

  /** Each item, maybe twice (`duplicates`), shuffled when `reorder` is on. */
  plan<T>(items: readonly T[], rng: Rng): Array<{ item: T; duplicate: boolean }> {
    const planned = items.flatMap((item) =>
      rng.chance(this.options.duplicates ?? 0)
        ? [
            { item, duplicate: false },
            { item, duplicate: true },
          ]
        : [{ item, duplicate: false }],
    );
    return this.options.reorder ? rng.shuffle(planned) : planned;
  }

  get reorder(): boolean {
    return this.options.reorder ?? false;
  }

  /** Waits, sends, and (per `duplicates`) sends a second copy. Returns the first response. */
  async deliver(request: OutgoingRequest, rng: Rng): Promise<Delivered | null> {
    let first: Delivered | null = null;
    for (const { duplicate } of this.plan([request], rng)) {
      await this.wait(rng);
      const result = await this.send(request, { duplicate });
      if (!duplicate) first = result;
    }
    return first;
  }

  /**
   * Sends now. `attempts` > 1 retries failures (network error or non-2xx) with backoff, as
   * SendGrid does; Twilio does not retry its webhooks.
   */
  async send(request: OutgoingRequest, { duplicate = false, attempts = 1 }: { duplicate?: boolean; attempts?: number } = {}): Promise<Delivered | null> {
    for (let attempt = 1; ; attempt++) {
      if (this.abort.signal.aborted) throw new QueueClosed();
      const result = await this.attempt(request, attempt, duplicate);
      if ((result && result.statusCode < 300) || attempt >= attempts) return result;
      await this.sleep(100 * 2 ** (attempt - 1));
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    for (const [timer, reject] of this.timers) {
      clearTimeout(timer);
      reject();
    }
    this.timers.clear();
    await this.idle();
  }

  private async attempt(request: OutgoingRequest, attempt: number, duplicate: boolean): Promise<Delivered | null> {
    const deliveredTo = rebase(request.url, this.options.deliverTo);
    const headers = request.headers();
    const record: SandboxCallbackRecord = {
      id: this.records.length + 1,
      kind: request.kind,
      resourceId: request.resourceId,
      url: request.url,
      deliveredTo,
      method: "POST",
      headers,
      body: request.body,
      statusCode: null,
      error: null,
      responseBody: null,
      attempt,
      duplicate,
      sentAt: new Date().toISOString(),
    };
    this.records.push(record);
    try {
      const response = await fetch(deliveredTo, {
        method: "POST",
        headers,
        body: request.body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      });
      const body = (await response.text()).slice(0, RESPONSE_LIMIT);
      record.statusCode = response.status;
      record.responseBody = body;
      if (response.status >= 300) {
        this.options.logger.warn({ kind: request.kind, id: request.resourceId, status: response.status }, "callback rejected");
      }
      return { statusCode: response.status, body };
    } catch (err) {
      if (this.abort.signal.aborted) throw new QueueClosed();
      record.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      this.options.logger.warn({ kind: request.kind, id: request.resourceId, error: record.error }, "callback failed");
      return null;
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.abort.signal.aborted) return Promise.reject(new QueueClosed());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          resolve();
        },
        Math.max(0, ms),
      );
      this.timers.set(timer, () => reject(new QueueClosed()));
    });
  }
}

/**
 * Replaces the scheme and host of `url` with `deliverTo`, keeping the path and query exactly as
 * written (no URL normalisation, so the signed and the delivered path are the same characters).
 */
export function rebase(url: string, deliverTo: string | undefined): string {
  if (!deliverTo) return url;
  return url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, deliverTo.replace(/\/+$/, ""));
}
