/**
 * What a debtor's inbound text (SMS or WhatsApp) asks for. Single-word keywords follow the
 * carriers' and Twilio's conventions (any case; surrounding spaces, quotes and punctuation
 * ignored); a longer message that clearly asks us to stop is an opt-out too, because
 * regulators expect "any reasonable means" to be honoured (12 CFR 1006.6(e)). Everything
 * else is a reply ("PAID", "PTP 25/12") for the account's journeys.
 */

export type InboundIntent = "opt-out" | "opt-in" | "help" | "reply";

export interface InboundClassification {
  intent: InboundIntent;
  /** The keyword matched (upper case), or null for a phrase or a reply. */
  keyword: string | null;
}

export const OPT_OUT_KEYWORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"] as const;
export const OPT_IN_KEYWORDS = ["START", "UNSTOP", "YES"] as const;
export const HELP_KEYWORDS = ["HELP", "INFO"] as const;

const KEYWORDS = new Map<string, InboundIntent>([
  ...OPT_OUT_KEYWORDS.map((k) => [k, "opt-out"] as const),
  ...OPT_IN_KEYWORDS.map((k) => [k, "opt-in"] as const),
  ...HELP_KEYWORDS.map((k) => [k, "help"] as const),
]);

// Phrases that ask us to stop contacting, matched on lower-cased text with punctuation
// turned into spaces. English first, then the languages our debtors write in (Indonesian,
// Swahili, romanised Hindi). Wrongly opting someone out costs a channel; wrongly ignoring a
// stop request breaks the law, so these lean towards opting out.
const CONTACT_VERB =
  "(?:text|texting|txt|message|messaging|msg|sms|sms'?ing|call|calling|ring|ringing|phone|phoning|contact|contacting|email|emailing|whatsapp|whatsapping|send|sending|bother|bothering|harass|harassing|spam|spamming)";
// After "don't": "send" alone is too loose ("I don't send money through that app").
const NEGATED_VERB = CONTACT_VERB.replace("|send|sending", "");
const STOP_PHRASES: RegExp[] = [
  // "stop", "stop all", "stop it please", "STOP texting me", "stop!!!"
  /^(?:please |pls |plz |kindly )?(?:stop|unsubscribe|opt ?out|optout)\b/,
  new RegExp(`\\b(?:stop|quit|cease|end) ${CONTACT_VERB}\\b`),
  new RegExp(`\\b(?:don'?t|do not|dont|never|no longer) ${NEGATED_VERB}\\b`),
  /\b(?:don'?t|do not|dont|never) send (?:me|us) (?:any )?(?:more )?(?:texts?|messages?|sms|emails?|whatsapps?)\b/,
  /\bunsubscribe\b/,
  /\bopt(?:ing)? (?:me )?out\b/,
  /\b(?:remove|take) (?:me|my (?:number|name))(?: off| from)\b/,
  /\bno more (?:texts?|messages?|sms|calls?|emails?|whatsapps?)\b/,
  /\bleave me alone\b/,
  /\bwrong number\b.*\b(?:stop|remove)\b/,
  // Indonesian: "berhenti kirim sms", "jangan hubungi saya lagi", "stop kirim pesan"
  /\b(?:berhenti|stop|setop|hentikan) (?:kirim|mengirim|hubungi|menghubungi|sms|telepon|menelepon|telpon|nelpon|pesan|chat|wa)\b/,
  /\bjangan (?:hubungi|menghubungi|kirim|mengirim|sms|telepon|menelepon|telpon|nelpon|ganggu|mengganggu|chat|wa)\b/,
  // Swahili: "acha kunitumia ujumbe", "usinitumie", "sitaki ujumbe"
  /\bacha (?:kunitumia|kutuma|kunipigia|kunisumbua)\b/,
  /\b(?:usinitumie|usinipigie|msinitumie|msinipigie|sitaki ujumbe)\b/,
  // Romanised Hindi: "message mat bhejo", "call mat karo", "band karo"
  /\b(?:sms|message|msg|call|phone) (?:mat|na) (?:bhejo|bhejiye|karo|kijiye)\b/,
  /\b(?:messages?|sms|call) band karo\b/,
];

/**
 * Classifies an inbound SMS or WhatsApp text. Pure: no I/O.
 * @example classifyInbound("  stop ") // { intent: "opt-out", keyword: "STOP" }
 * @example classifyInbound("please stop texting me") // { intent: "opt-out", keyword: null }
 * @example classifyInbound("PTP 25/12") // { intent: "reply", keyword: null }
 */
export function classifyInbound(text: string): InboundClassification {
  const trimmed = text.normalize("NFKC").trim();
  // Punctuation and symbols around the word go, whichever quotes the debtor's keyboard made:
  // 'STOP', "STOP", «STOP», `STOP`, STOP!
  const word = trimmed.replace(/^[\p{P}\p{S}\s]+|[\p{P}\p{S}\s]+$/gu, "").toUpperCase();
  const keyword = KEYWORDS.get(word);
  if (keyword) return { intent: keyword, keyword: word };

  const phrase = trimmed
    .toLowerCase()
    .replace(/[’`´]/g, "'")
    // An apostrophe inside a word stays ("don't"); one that quotes the message does not.
    .replace(/'(?![\p{L}\p{N}])|(?<![\p{L}\p{N}])'/gu, " ")
    .replace(/[^\p{L}\p{N}'\s]+/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
  if (phrase && STOP_PHRASES.some((pattern) => pattern.test(phrase))) return { intent: "opt-out", keyword: null };
  return { intent: "reply", keyword: null };
}

export interface KeywordReplyContext {
  /** The creditor named in the message. */
  creditor: string;
  /** A number the debtor can call; the help text names it when set. */
  helpPhone?: string;
}

type Language = "en" | "id" | "hi" | "sw";
type ReplyChannel = "sms" | "whatsapp";
/** The answers to a keyword; "opt-in-refused": an opt-in keyword that finds an opt-out the debtor made otherwise (a call, a letter), which a text cannot lift. */
export type KeywordReplyKind = "opt-out" | "opt-in" | "opt-in-refused" | "help";
type Replies = Record<KeywordReplyKind, (channel: ReplyChannel, ctx: KeywordReplyContext) => string>;

const CHANNEL_NAMES: Record<Language, Record<ReplyChannel, string>> = {
  en: { sms: "text messages", whatsapp: "WhatsApp messages" },
  id: { sms: "SMS", whatsapp: "pesan WhatsApp" },
  hi: { sms: "SMS संदेश", whatsapp: "WhatsApp संदेश" },
  sw: { sms: "ujumbe wa SMS", whatsapp: "ujumbe wa WhatsApp" },
};

/** How to opt out, in the debtor's language: every SMS and WhatsApp message carries it. */
const OPT_OUT_INSTRUCTION: Record<Language, string> = {
  en: "Reply STOP to opt out.",
  id: "Balas STOP untuk berhenti.",
  hi: "बंद करने के लिए STOP लिखें।",
  sw: "Jibu STOP kusitisha.",
};

const REPLIES: Record<Language, Replies> = {
  en: {
    "opt-out": (ch, { creditor }) => `${creditor}: you will no longer receive ${CHANNEL_NAMES.en[ch]} from us. Reply START to opt back in.`,
    "opt-in": (ch, { creditor }) => `${creditor}: you will receive ${CHANNEL_NAMES.en[ch]} from us again. ${OPT_OUT_INSTRUCTION.en}`,
    "opt-in-refused": (ch, { creditor, helpPhone }) =>
      `${creditor}: you asked us by other means not to send you ${CHANNEL_NAMES.en[ch]}, and a reply cannot change that. To receive them again, please contact ${creditor}${helpPhone ? ` on ${helpPhone}` : ""}.`,
    help: (_ch, { creditor, helpPhone }) =>
      `${creditor} account messages.${helpPhone ? ` For help call ${helpPhone}.` : ""} Reply STOP to opt out, START to opt back in.`,
  },
  id: {
    "opt-out": (ch, { creditor }) => `${creditor}: Anda tidak akan menerima ${CHANNEL_NAMES.id[ch]} dari kami lagi. Balas START untuk berlangganan kembali.`,
    "opt-in": (ch, { creditor }) => `${creditor}: Anda akan kembali menerima ${CHANNEL_NAMES.id[ch]} dari kami. ${OPT_OUT_INSTRUCTION.id}`,
    "opt-in-refused": (ch, { creditor, helpPhone }) =>
      `${creditor}: Anda telah meminta kami dengan cara lain untuk tidak mengirim ${CHANNEL_NAMES.id[ch]}, dan balasan ini tidak dapat mengubahnya. Untuk menerimanya kembali, silakan hubungi ${creditor}${helpPhone ? ` di ${helpPhone}` : ""}.`,
    help: (_ch, { creditor, helpPhone }) =>
      `Pesan akun ${creditor}.${helpPhone ? ` Untuk bantuan hubungi ${helpPhone}.` : ""} Balas STOP untuk berhenti, START untuk berlangganan kembali.`,
  },
  hi: {
    "opt-out": (ch, { creditor }) => `${creditor}: अब आपको हमसे ${CHANNEL_NAMES.hi[ch]} नहीं मिलेंगे। फिर से शुरू करने के लिए START लिखें।`,
    "opt-in": (ch, { creditor }) => `${creditor}: आपको हमसे फिर से ${CHANNEL_NAMES.hi[ch]} मिलेंगे। ${OPT_OUT_INSTRUCTION.hi}`,
    "opt-in-refused": (ch, { creditor, helpPhone }) =>
      `${creditor}: आपने किसी अन्य माध्यम से हमसे ${CHANNEL_NAMES.hi[ch]} न भेजने को कहा था, और इस जवाब से यह नहीं बदलता। इन्हें फिर से पाने के लिए कृपया ${creditor} से संपर्क करें${helpPhone ? ` (${helpPhone})` : ""}।`,
    help: (_ch, { creditor, helpPhone }) =>
      `${creditor} खाता संदेश।${helpPhone ? ` सहायता के लिए ${helpPhone} पर कॉल करें।` : ""} बंद करने के लिए STOP, फिर से शुरू करने के लिए START लिखें।`,
  },
  sw: {
    "opt-out": (ch, { creditor }) => `${creditor}: hutapokea tena ${CHANNEL_NAMES.sw[ch]} kutoka kwetu. Jibu START kujiunga tena.`,
    "opt-in": (ch, { creditor }) => `${creditor}: utapokea tena ${CHANNEL_NAMES.sw[ch]} kutoka kwetu. ${OPT_OUT_INSTRUCTION.sw}`,
    "opt-in-refused": (ch, { creditor, helpPhone }) =>
      `${creditor}: uliomba kwa njia nyingine tusikutumie ${CHANNEL_NAMES.sw[ch]}, na jibu hili haliwezi kubadilisha hilo. Ili kuupokea tena, tafadhali wasiliana na ${creditor}${helpPhone ? ` kwa ${helpPhone}` : ""}.`,
    help: (_ch, { creditor, helpPhone }) =>
      `Ujumbe wa akaunti ya ${creditor}.${helpPhone ? ` Kwa msaada piga ${helpPhone}.` : ""} Jibu STOP kusitisha, START kujiunga tena.`,
  },
};

/**
 * Whether a text tells how to opt out: the keyword in capitals ("Reply STOP", "STOP लिखें"), or
 * a verb asking for it in any case ("text stop", "balas stop"). The word alone in lower case
 * is not one: "please do not stop paying" carries no instruction.
 */
function hasOptOutInstruction(text: string): boolean {
  return /\bSTOP\b/.test(text) || /\b(?:reply|text|txt|send|sms|respond|type|balas|ketik|kirim|jibu|tuma)\s+(?:with\s+|dengan\s+)?["'“‘«]?stop\b/i.test(text);
}

/**
 * A text message as sent: one whose template gives no opt-out instruction (no STOP) gets the
 * debtor's language's at its end, so every SMS and WhatsApp text carries one (compliance
 * reference, "electronic opt-out") whatever ops wrote, as every email carries its link.
 * Other channels' text is returned as it is.
 * @example withOptOutInstruction("Pay $40.00 now.", "sms", "en-US") // "Pay $40.00 now. Reply STOP to opt out."
 */
export function withOptOutInstruction(text: string, channel: string, locale: string): string {
  if ((channel !== "sms" && channel !== "whatsapp") || hasOptOutInstruction(text)) return text;
  return `${text.trimEnd()} ${OPT_OUT_INSTRUCTION[ourLanguage(locale)]}`;
}

/**
 * The confirmation or help text answering a keyword, in the debtor's language (English
 * when we do not write theirs). Names no debt: the number may not be the debtor's.
 * @example keywordReply("opt-out", "sms", "id-ID", { creditor: "Bank Contoh" })
 */
export function keywordReply(intent: KeywordReplyKind, channel: ReplyChannel, locale: string, ctx: KeywordReplyContext): string {
  return REPLIES[ourLanguage(locale)][intent](channel, ctx);
}

/** The locale's language if we write it, else English. */
function ourLanguage(locale: string): Language {
  const language = locale.split("-")[0]!.toLowerCase();
  // An own property only: a locale of "constructor" is a language we do not write.
  return Object.hasOwn(REPLIES, language) ? (language as Language) : "en";
}
