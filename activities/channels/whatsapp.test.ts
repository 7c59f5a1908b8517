import { describe, expect, it } from "vitest";
import type { Account } from "../../generated/prisma/client.ts";
import { contentVariables } from "./whatsapp.ts";

const account = { name: "Budi Santoso", balanceMinor: 150_000_000n, currency: "IDR", dueDate: null, locale: "id-ID", timeZone: null } as Account;
const template = (contentVariables?: Record<string, string>) => ({
  name: "reminder",
  channel: "whatsapp" as const,
  locale: "id",
  body: "x",
  contentSid: `HX${"a".repeat(32)}`,
  ...(contentVariables && { contentVariables }),
});

// Before, a variable rendered empty or over several lines went to Twilio as it was, and
// WhatsApp refused the message: the step fell back although the template was approved.
describe("WhatsApp Content template parameters", () => {
  it.each([
    ["the built-in variables, without a due date", undefined, { "1": "Budi", "2": "Rp 1.500.000", "3": "-" }],
    ["a variable that renders empty", { "1": "{{firstName}}", "2": "{{#if dueDate}}{{date dueDate}}{{/if}}" }, { "1": "Budi", "2": "-" }],
    [
      "a variable over several lines",
      { "1": "{{firstName}},\n\n   sisa    tagihan\t{{money amountDue currency}}" },
      { "1": "Budi, sisa tagihan Rp 1.500.000" },
    ],
  ])("sends %s as WhatsApp accepts them", (_case, variables, expected) => {
    expect(JSON.parse(contentVariables(account, template(variables), "Bank Contoh"))).toEqual(expected);
  });
});
