import { pino, type Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;

// Keys whose values are personal data wherever they appear in a log record.
const PERSONAL_KEYS = new Set(["name", "firstname", "lastname", "phone", "to", "from", "email", "whatsapp", "body", "address"]);
const EMAIL = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
// Not inside identifiers: UUIDs and vendor SIDs contain digit runs too. Not a date either
// (2027-12-31): due dates and holidays stay readable.
const PHONE = /(?<![\w-])(?!\d{4}-\d{2}-\d{2}(?!\d))\+?\d[\d\s().-]{6,}\d(?![\w-])/g;

/**
 * Masks personal data: values under personal keys, and any email address or phone
 * number inside strings (keeping the last 4 digits so ops can still tell numbers apart).
 * @example maskPersonalData({ to: "+6281234567890" }) // { to: "+62*******7890" }
 */
export function maskPersonalData(value: unknown, key?: string): unknown {
  if (typeof value === "string") {
    if (key && PERSONAL_KEYS.has(key.toLowerCase())) return maskValue(value);
    return value.replace(EMAIL, (_m, first: string, domain: string) => `${first}***@${domain}`).replace(PHONE, maskPhone);
  }
  if (Array.isArray(value)) return value.map((v) => maskPersonalData(v, key));
  if (value && typeof value === "object" && !(value instanceof Date)) {
    if (value instanceof Error) return { type: value.name, message: maskPersonalData(value.message), stack: value.stack };
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskPersonalData(v, k)]));
  }
  return value;
}

function maskValue(value: string): string {
  if (value.includes("@")) return value.replace(EMAIL, (_m, first: string, domain: string) => `${first}***@${domain}`);
  if (/^(whatsapp:)?\+?\d[\d\s().-]{5,}$/.test(value)) return maskPhone(value);
  return value.length <= 1 ? "*" : `${value[0]}***`;
}

function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, "");
  if (digits.length < 7) return phone;
  const prefix = phone.startsWith("whatsapp:") ? "whatsapp:" : "";
  const plus = phone.includes("+") ? "+" : "";
  return `${prefix}${plus}${digits.slice(0, 2)}${"*".repeat(digits.length - 6)}${digits.slice(-4)}`;
}

/**
 * Structured JSON logs on stdout, with personal data masked in every record.
 * @example createLogger("info").info({ accountId }, "enrolled")
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: "tagih" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (record) => maskPersonalData(record) as Record<string, unknown>,
      },
      hooks: {
        // Free-text messages may quote vendor errors that contain a number or address.
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === "string" ? (maskPersonalData(a) as string) : a));
          method.apply(this, masked as Parameters<typeof method>);
        },
      },
      serializers: { err: (e: Error) => maskPersonalData(e) },
    },
    destination ?? process.stdout,
  );
}
