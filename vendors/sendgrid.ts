/**
 * Our SendGrid mail client: a fresh `MailService` (never the global singleton), optionally
 * pointed at the local vendor sandbox.
 */
import { MailService } from "@sendgrid/mail";

interface WithClient {
  client: { setDefaultRequest(key: "baseUrl", value: string): unknown };
}

export interface SendgridClientOptions {
  apiKey: string;
  /** Base URL replacing https://api.sendgrid.com, e.g. the sandbox's URL. */
  apiBaseUrl?: string;
}

/**
 * @example
 * const mail = createSendgridClient({ apiKey, apiBaseUrl: sandbox.url });
 * const [response] = await mail.send({ to, from, subject, text, customArgs: { attemptId } });
 * response.headers["x-message-id"];
 */
export function createSendgridClient(options: SendgridClientOptions): MailService {
  const mail = new MailService();
  mail.setApiKey(options.apiKey);
  // setApiKey() resets the base URL, so it is set afterwards.
  // MailService keeps its @sendgrid/client instance in `client` (not in its typings).
  if (options.apiBaseUrl) (mail as unknown as WithClient).client.setDefaultRequest("baseUrl", options.apiBaseUrl);
  return mail;
}
