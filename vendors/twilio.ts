/**
 * Our Twilio client: the real `twilio` SDK, optionally pointed at the local vendor sandbox.
 */
import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient.js";

export interface TwilioClientOptions {
  accountSid: string;
  authToken: string;
  /** Base URL that replaces `https://*.twilio.com` (path and query kept), e.g. the sandbox's URL. */
  apiBaseUrl?: string;
}

/**
 * A RequestClient that sends every request meant for a Twilio host to `apiBaseUrl` instead.
 */
export class RebasingRequestClient extends twilio.RequestClient {
  private readonly base: string;

  constructor(apiBaseUrl: string) {
    super();
    this.base = apiBaseUrl.replace(/\/+$/, "");
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: rebaseTwilioUri(opts.uri, this.base) });
  }
}

/** `https://api.twilio.com/2010-04-01/…?x=1` → `${base}/2010-04-01/…?x=1`; other URIs unchanged. */
export function rebaseTwilioUri(uri: string, base: string): string {
  return uri.replace(/^https:\/\/(?:[a-z0-9-]+\.)*twilio\.com(?::\d+)?(?=[/?#]|$)/i, base.replace(/\/+$/, ""));
}

/**
 * @example
 * const client = createTwilioClient({ accountSid, authToken, apiBaseUrl: sandbox.url });
 * const message = await client.messages.create({ to: "+6281234567890", from, body, statusCallback });
 */
export function createTwilioClient(options: TwilioClientOptions): twilio.Twilio {
  const { accountSid, authToken, apiBaseUrl } = options;
  return twilio(accountSid, authToken, apiBaseUrl ? { httpClient: new RebasingRequestClient(apiBaseUrl) } : {});
}

/**
 * The messages sent `to` from `from` since `since` (a minute earlier, for clocks apart).
 * Twilio has no idempotency key for messages: a send that may have gone through before a
 * crash looks here for what it sent rather than sending again.
 * @example const recent = await recentMessages(client, { to: "+6281234567890", from: "+15005550006", since })
 */
export function recentMessages(client: twilio.Twilio, { to, from, since }: { to: string; from: string; since: Date }) {
  return client.messages.list({ to, from, dateSentAfter: new Date(since.getTime() - 60_000), limit: 50 });
}
