/**
 * Masks for logs: a debtor's phone number or email address never appears in full.
 *
 * @example
 * maskPhone("+6281234567890");          // "+62*******7890"
 * maskPhone("whatsapp:+6281234567890"); // "whatsapp:+62*******7890"
 * maskEmail("budi@example.co.id");      // "b***@example.co.id"
 */
export function maskPhone(value: string | null | undefined): string {
  if (!value) return "";
  const colon = value.indexOf(":");
  const prefix = colon >= 0 ? value.slice(0, colon + 1) : "";
  const number = value.slice(prefix.length);
  if (number.length <= 7) return prefix + "*".repeat(number.length);
  return prefix + number.slice(0, 3) + "*".repeat(number.length - 7) + number.slice(-4);
}

export function maskEmail(value: string | null | undefined): string {
  if (!value) return "";
  const at = value.lastIndexOf("@");
  if (at <= 0) return "***";
  return `${value[0]}***${value.slice(at)}`;
}
