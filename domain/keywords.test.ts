import { describe, expect, it } from "vitest";
import { classifyInbound, HELP_KEYWORDS, keywordReply, OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS, withOptOutInstruction } from "./keywords.ts";

describe("classifyInbound: single-word keywords", () => {
  const variants = (word: string) => [word, word.toLowerCase(), `  ${word[0]}${word.slice(1).toLowerCase()}  `, `\t${word}\n`, `${word}.`, `${word}!`];

  it.each(OPT_OUT_KEYWORDS.flatMap((k) => variants(k).map((v) => [v, k])))("%j opts out (%s)", (text, keyword) => {
    expect(classifyInbound(text)).toEqual({ intent: "opt-out", keyword });
  });
  it.each(OPT_IN_KEYWORDS.flatMap((k) => variants(k).map((v) => [v, k])))("%j opts back in (%s)", (text, keyword) => {
    expect(classifyInbound(text)).toEqual({ intent: "opt-in", keyword });
  });
  it.each(HELP_KEYWORDS.flatMap((k) => variants(k).map((v) => [v, k])))("%j asks for help (%s)", (text, keyword) => {
    expect(classifyInbound(text)).toEqual({ intent: "help", keyword });
  });

  // Debtors quote the word they were told to send, in whatever quotes their keyboard makes.
  const quoted = (word: string) => [
    `'${word}'`,
    `"${word}"`,
    `‘${word}’`,
    `“${word}”`,
    `«${word}»`,
    `„${word}“`,
    `「${word}」`,
    `\`${word}\``,
    ` '${word}'. `,
    `"${word.toLowerCase()}!"`,
  ];
  it.each(
    [
      ...OPT_OUT_KEYWORDS.map((k) => [k, "opt-out"] as const),
      ...OPT_IN_KEYWORDS.map((k) => [k, "opt-in"] as const),
      ...HELP_KEYWORDS.map((k) => [k, "help"] as const),
    ].flatMap(([keyword, intent]) => quoted(keyword).map((text) => [text, intent, keyword])),
  )("%j in quotes is %s (%s)", (text, intent, keyword) => {
    expect(classifyInbound(text)).toEqual({ intent, keyword });
  });

  it("covers exactly the keywords of the compliance reference", () => {
    expect([...OPT_OUT_KEYWORDS]).toEqual(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]);
    expect([...OPT_IN_KEYWORDS]).toEqual(["START", "UNSTOP", "YES"]);
    expect([...HELP_KEYWORDS]).toEqual(["HELP", "INFO"]);
  });
});

describe("classifyInbound: longer messages", () => {
  it.each([
    "please stop texting me",
    "Please STOP texting me!!",
    "stop all",
    "Stop it",
    "STOP. I paid already",
    "opt out",
    "Unsubscribe me please",
    "I want to unsubscribe",
    "do not contact me again",
    "Don't call me anymore",
    "don’t text me",
    "dont message me",
    "never call this number again",
    "Please don't send me any more messages",
    "no more texts",
    "remove me from your list",
    "take my number off your list",
    "leave me alone",
    "quit calling me",
    "cease contacting me",
    "stop sending these",
    "wrong number, stop",
    "tolong berhenti kirim sms",
    "Jangan hubungi saya lagi",
    "stop kirim pesan",
    "acha kunitumia ujumbe",
    "Usinitumie tena",
    "message mat bhejo",
    "sms band karo",
    "'please stop'",
    "'stop texting me'",
    "‘unsubscribe me’",
  ])("%j is an opt-out", (text) => {
    expect(classifyInbound(text)).toEqual({ intent: "opt-out", keyword: null });
  });

  it.each([
    "PAID",
    "paid",
    "PTP 25/12",
    "I will pay on Friday",
    "Yes I will pay tomorrow",
    "help me understand the amount",
    "Can you stop by the branch?",
    "I stopped working last month",
    "end of month",
    "cancel my auto debit",
    "I don't send money through that app",
    "who is this?",
    "",
    "   ",
    "STOPP",
    "STARTING",
    "'PAID'",
    '"STOPP"',
    "'end of month'",
    "saya sudah bayar",
  ])("%j is a reply", (text) => {
    expect(classifyInbound(text)).toEqual({ intent: "reply", keyword: null });
  });
});

describe("keywordReply", () => {
  it.each([
    ["opt-out", "sms", "en-IN", "Bank Contoh: you will no longer receive text messages from us. Reply START to opt back in."],
    ["opt-out", "whatsapp", "en", "Bank Contoh: you will no longer receive WhatsApp messages from us. Reply START to opt back in."],
    ["opt-in", "sms", "en-US", "Bank Contoh: you will receive text messages from us again. Reply STOP to opt out."],
    [
      "opt-in-refused",
      "whatsapp",
      "en-US",
      "Bank Contoh: you asked us by other means not to send you WhatsApp messages, and a reply cannot change that. To receive them again, please contact Bank Contoh.",
    ],
    ["opt-out", "sms", "id-ID", "Bank Contoh: Anda tidak akan menerima SMS dari kami lagi. Balas START untuk berlangganan kembali."],
    ["opt-out", "sms", "fr-FR", "Bank Contoh: you will no longer receive text messages from us. Reply START to opt back in."],
    ["opt-out", "sms", "constructor", "Bank Contoh: you will no longer receive text messages from us. Reply START to opt back in."],
    ["help", "sms", "__proto__", "Bank Contoh account messages. Reply STOP to opt out, START to opt back in."],
  ] as const)("%s on %s in %s", (intent, channel, locale, expected) => {
    expect(keywordReply(intent, channel, locale, { creditor: "Bank Contoh" })).toBe(expected);
  });

  it.each(["en", "id", "hi", "sw"])("a refused opt-in in %s names the creditor and the help line to contact, never the debt", (locale) => {
    const text = keywordReply("opt-in-refused", "sms", locale, { creditor: "Bank Contoh", helpPhone: "+6221500123" });
    expect(text).toContain("+6221500123");
    expect(text.split("Bank Contoh")).toHaveLength(3);
    expect(text.toLowerCase()).not.toMatch(/debt|utang|tagihan|deni|कर्ज/);
  });

  it.each(["en", "id", "hi", "sw"])("help in %s names the help line and how to opt out, never the debt", (locale) => {
    const text = keywordReply("help", "sms", locale, { creditor: "Bank Contoh", helpPhone: "+6221500123" });
    expect(text).toContain("+6221500123");
    expect(text).toContain("STOP");
    expect(text.toLowerCase()).not.toMatch(/debt|utang|tagihan|deni|कर्ज/);
  });
});

describe("withOptOutInstruction", () => {
  it.each([
    ["Pay $40.00 now.", "sms", "en-US", "Pay $40.00 now. Reply STOP to opt out."],
    ["Tagihan Rp 250.000 telah lewat jatuh tempo.\n", "sms", "id-ID", "Tagihan Rp 250.000 telah lewat jatuh tempo. Balas STOP untuk berhenti."],
    ["Deni lako limepita muda wake.", "whatsapp", "sw-KE", "Deni lako limepita muda wake. Jibu STOP kusitisha."],
    ["आपकी राशि बकाया है।", "sms", "hi-IN", "आपकी राशि बकाया है। बंद करने के लिए STOP लिखें।"],
    ["Please pay today.", "sms", "fr-FR", "Please pay today. Reply STOP to opt out."],
    ["Please pay today.", "sms", "constructor", "Please pay today. Reply STOP to opt out."],
    // The template's own instruction, in any case, is kept as written.
    ["Pay now. Reply STOP to opt out.", "sms", "en", "Pay now. Reply STOP to opt out."],
    ["Pay now. Text stop to end these messages.", "sms", "en", "Pay now. Text stop to end these messages."],
    ["Pay now. Balas stop untuk berhenti.", "sms", "id", "Pay now. Balas stop untuk berhenti."],
    ["Pay now. Text 'stop' to end.", "sms", "en", "Pay now. Text 'stop' to end."],
    // "nonstop" is no instruction, nor is "stop" in a sentence (before, any "stop" suppressed the instruction).
    ["Our nonstop line: 0800 123.", "sms", "en", "Our nonstop line: 0800 123. Reply STOP to opt out."],
    ["Please do not stop paying, Siti.", "sms", "en", "Please do not stop paying, Siti. Reply STOP to opt out."],
    ["Stop by our branch to pay.", "whatsapp", "en", "Stop by our branch to pay. Reply STOP to opt out."],
    ["Jangan stop pembayaran Anda.", "sms", "id", "Jangan stop pembayaran Anda. Balas STOP untuk berhenti."],
    // Emails carry their unsubscribe link instead; voice is spoken.
    ["Pay now.", "email", "en", "Pay now."],
    ["Pay now.", "voice", "en", "Pay now."],
  ])("%j on %s in %s", (text, channel, locale, expected) => {
    expect(withOptOutInstruction(text, channel, locale)).toBe(expected);
  });
});
