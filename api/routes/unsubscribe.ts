import { createRoute, z } from "@hono/zod-openapi";
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { CHANNELS, type Channel } from "../../domain/channel.ts";
import { problem, ProblemError } from "../problem.ts";
import { router } from "../router.ts";
import type { ApiDeps } from "../types.ts";

// A token is `<accountId>.<channel>.<HMAC-SHA256 of both, base64url>`: it names whom to opt
// out of what, and only we can make one, so nobody can opt out someone else.
const TOKEN = new RegExp(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\\.(${CHANNELS.join("|")})\\.([A-Za-z0-9_-]{43})$`);

function mac(secret: string, accountId: string, channel: Channel): string {
  // The domain prefix keeps these MACs apart from anything else signed with the same secret.
  return createHmac("sha256", secret).update(`tagih-unsubscribe:v1:${accountId}:${channel}`).digest("base64url");
}

/**
 * The opt-out link for an account and channel, on our API (the `List-Unsubscribe` URL).
 * @example unsubscribeUrl("https://tagih.example.com", secret, accountId) // "https://tagih.example.com/v1/unsubscribe/<accountId>.email.<mac>"
 */
export function unsubscribeUrl(publicBaseUrl: string, secret: string, accountId: string, channel: Channel = "email"): string {
  return `${publicBaseUrl}/v1/unsubscribe/${accountId}.${channel}.${mac(secret, accountId, channel)}`;
}

/**
 * The account and channel a token opts out, or undefined when it is malformed or forged.
 * @example verifyUnsubscribeToken(secret, "not-a-token") // undefined
 */
export function verifyUnsubscribeToken(secret: string, token: string): { accountId: string; channel: Channel } | undefined {
  const match = TOKEN.exec(token);
  if (!match) return undefined;
  const [, accountId, channel, given] = match as unknown as [string, string, Channel, string];
  const expected = Buffer.from(mac(secret, accountId, channel));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? { accountId, channel } : undefined;
}

const params = z.object({ token: z.string().max(200).openapi({ description: "from the link in the message" }) });
const html = { "text/html": { schema: z.string() } };
const showRoute = createRoute({
  method: "get",
  path: "/v1/unsubscribe/{token}",
  tags: ["unsubscribe"],
  summary: "The debtor's unsubscribe page: asks to confirm (a GET has no effect, as mail scanners fetch links)",
  request: { params },
  responses: { 200: { description: "The confirmation form, or that the debtor is already unsubscribed", content: html }, 403: { description: "Invalid link" } },
});
const unsubscribeRoute = createRoute({
  method: "post",
  path: "/v1/unsubscribe/{token}",
  tags: ["unsubscribe"],
  summary: "Opt the debtor out of the link's channel in every campaign (the page's button, and RFC 8058 one-click: List-Unsubscribe=One-Click)",
  request: { params },
  responses: { 200: { description: "Unsubscribed (also when already)", content: html }, 403: { description: "Invalid link" } },
});

type Language = "en" | "id" | "hi" | "sw";
const TEXT: Record<Language, { title: string; ask: string; button: string; done: string; invalid: string }> = {
  en: {
    title: "Unsubscribe",
    ask: "Do you want to stop receiving these emails about your account?",
    button: "Unsubscribe",
    done: "You are unsubscribed. You will not receive these emails about your account any more.",
    invalid: "This unsubscribe link is not valid.",
  },
  id: {
    title: "Berhenti berlangganan",
    ask: "Apakah Anda ingin berhenti menerima email ini tentang akun Anda?",
    button: "Berhenti berlangganan",
    done: "Anda telah berhenti berlangganan. Anda tidak akan lagi menerima email ini tentang akun Anda.",
    invalid: "Tautan berhenti berlangganan ini tidak valid.",
  },
  hi: {
    title: "सदस्यता समाप्त करें",
    ask: "क्या आप अपने खाते के बारे में ये ईमेल पाना बंद करना चाहते हैं?",
    button: "सदस्यता समाप्त करें",
    done: "आपकी सदस्यता समाप्त हो गई है। अब आपको अपने खाते के बारे में ये ईमेल नहीं मिलेंगे।",
    invalid: "यह सदस्यता समाप्त करने का लिंक मान्य नहीं है।",
  },
  sw: {
    title: "Jiondoe",
    ask: "Je, unataka kuacha kupokea barua pepe hizi kuhusu akaunti yako?",
    button: "Jiondoe",
    done: "Umejiondoa. Hutapokea tena barua pepe hizi kuhusu akaunti yako.",
    invalid: "Kiungo hiki cha kujiondoa si halali.",
  },
};

const languageOf = (locale: string): Language => {
  const language = locale.split("-")[0]!.toLowerCase();
  return language in TEXT ? (language as Language) : "en";
};

// Every string on these pages is ours (no account data), so nothing needs escaping.
const page = (language: Language, body: string) =>
  `<!doctype html><html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
  `<meta name="robots" content="noindex"><title>${TEXT[language].title}</title></head>` +
  `<body style="font-family: Arial, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; color: #1f2933;">${body}</body></html>`;

/**
 * `GET /v1/unsubscribe/{token}` shows a one-button confirmation page in the debtor's
 * language; `POST` (that button, or a mail client's RFC 8058 one-click POST) records the
 * opt-out, which the compliance gate applies to every campaign at once.
 */
export function unsubscribeRoutes({ db, logger, settings }: ApiDeps) {
  const app = router();

  const refuse = (c: Context) => {
    logger.warn({ path: "/v1/unsubscribe" }, "refused an invalid unsubscribe link");
    if (!(c.req.header("accept") ?? "").includes("text/html")) return problem(c, 403, "Forbidden", "invalid unsubscribe link");
    return c.html(page("en", `<h1>${TEXT.en.title}</h1><p>${TEXT.en.invalid}</p>`), 403);
  };
  const target = async (token: string) => {
    if (!settings.unsubscribeSecret) throw new ProblemError(503, "Unavailable", "unsubscribe links are not configured");
    const verified = verifyUnsubscribeToken(settings.unsubscribeSecret, token);
    if (!verified) return undefined;
    const account = await db.account.findUnique({ where: { id: verified.accountId }, select: { id: true, locale: true } });
    return account && { ...verified, language: languageOf(account.locale) };
  };

  app.openapi(showRoute, async (c) => {
    const found = await target(c.req.valid("param").token);
    if (!found) return refuse(c);
    const text = TEXT[found.language];
    const optedOut = await db.optOut.findUnique({ where: { accountId_channel: { accountId: found.accountId, channel: found.channel } } });
    if (optedOut) return c.html(page(found.language, `<h1>${text.title}</h1><p>${text.done}</p>`), 200);
    const form = `<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">${text.button}</button></form>`;
    return c.html(page(found.language, `<h1>${text.title}</h1><p>${text.ask}</p>${form}`), 200);
  });

  // Opt-outs are read by the gate before every contact; running journeys need no signal.
  app.openapi(unsubscribeRoute, async (c) => {
    const found = await target(c.req.valid("param").token);
    if (!found) return refuse(c);
    await db.optOut.upsert({
      where: { accountId_channel: { accountId: found.accountId, channel: found.channel } },
      create: { accountId: found.accountId, channel: found.channel, source: "unsubscribe-link" },
      update: {},
    });
    logger.info({ accountId: found.accountId, channel: found.channel }, "debtor unsubscribed by link");
    const text = TEXT[found.language];
    return c.html(page(found.language, `<h1>${text.title}</h1><p>${text.done}</p>`), 200);
  });
  return app;
}
