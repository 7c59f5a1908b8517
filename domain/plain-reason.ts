import { z } from "zod";

// zod's own messages ("Invalid input: expected string, received undefined", "Too small:
// expected number to be >0") name the validator's types, not the fix. Every schema's issue is
// worded here instead, in the words the product uses elsewhere ("is required", "must be a
// string"); a message a schema sets itself is kept as written (zod asks this map only for
// issues without one). Installed for the whole process when this module is loaded: the API's
// problem documents (api/problem.ts) and the import (domain/account-input.ts) load it.

const TYPE_NOUNS: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  bigint: "a whole number",
  boolean: "true or false",
  object: "an object",
  record: "an object",
  map: "an object",
  array: "a list",
  tuple: "a list",
  set: "a list",
  date: "a date",
  null: "null",
  file: "a file",
};

// Kept short and concrete: what the value must be, with an example where the form is not obvious.
const FORMATS: Record<string, string> = {
  email: "must be an email address",
  url: "must be a URL",
  uuid: "must be a UUID",
  uuidv4: "must be a UUID",
  uuidv6: "must be a UUID",
  uuidv7: "must be a UUID",
  guid: "must be a UUID",
  date: "must be a date written YYYY-MM-DD, such as 2026-12-25",
  time: "must be a time written HH:MM or HH:MM:SS, such as 10:15",
  duration: "must be an ISO 8601 duration, such as P3D or PT12H",
  e164: "must be an E.164 number",
  ipv4: "must be an IPv4 address",
  ipv6: "must be an IPv6 address",
  cidrv4: "must be an IPv4 range, such as 10.0.0.0/8",
  cidrv6: "must be an IPv6 range, such as 2001:db8::/32",
  mac: "must be a MAC address",
  hostname: "must be a host name",
  base64: "must be base64-encoded",
  base64url: "must be base64url-encoded",
  hex: "must be hexadecimal",
  jwt: "must be a JSON Web Token",
  json_string: "must be a JSON document",
  emoji: "must be emoji",
  lowercase: "must be in lower case",
  uppercase: "must be in upper case",
  nanoid: "must be a Nano ID",
  cuid: "must be a CUID",
  cuid2: "must be a CUID2",
  ulid: "must be a ULID",
  xid: "must be an XID",
  ksuid: "must be a KSUID",
};

/** "1 character", "100 characters". */
const count = (n: number | bigint, unit: string) => `${String(n)} ${unit}${Number(n) === 1 ? "" : "s"}`;

/** What a value must be, as the rest of a sentence ("must be …"): a value quoted only when it is text with spaces or none. */
function shown(value: unknown): string {
  if (typeof value === "string") return value === "" || /\s/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === "bigint") return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** Units of a length or size limit, by the kind of value limited; undefined for a magnitude. */
const SIZED: Record<string, string> = { string: "character", array: "item", set: "item", map: "entry", file: "byte" };

function sizeLimit(issue: { origin: string; exact?: boolean; inclusive?: boolean }, bound: number | bigint, side: "min" | "max"): string {
  const unit = SIZED[issue.origin];
  if (issue.origin === "date") {
    const when = new Date(Number(bound)).toISOString();
    return side === "min" ? `must be ${issue.inclusive ? "on or after" : "after"} ${when}` : `must be ${issue.inclusive ? "on or before" : "before"} ${when}`;
  }
  if (unit === undefined) {
    if (issue.exact) return `must be ${String(bound)}`;
    if (side === "min") return issue.inclusive ? `must be at least ${String(bound)}` : `must be greater than ${String(bound)}`;
    return issue.inclusive ? `must be at most ${String(bound)}` : `must be less than ${String(bound)}`;
  }
  const units = count(bound, unit).replace("entrys", "entries");
  // A string "is" its characters; a list "has" its items.
  const verb = issue.origin === "string" ? "be" : "have";
  if (issue.exact) return `must ${verb} exactly ${units}`;
  if (side === "min") return issue.inclusive ? `must ${verb} at least ${units}` : `must ${verb} more than ${units}`;
  return issue.inclusive ? `must ${verb} at most ${units}` : `must ${verb} fewer than ${units}`;
}

function datetimeReason(inst: unknown): string {
  const def = (inst as { _zod?: { def?: { offset?: boolean; local?: boolean } } } | undefined)?._zod?.def;
  if (def?.offset) return "must be an ISO 8601 date-time with an offset, such as 2026-12-20T10:15:00+07:00";
  if (def?.local) return "must be an ISO 8601 date-time, such as 2026-12-20T10:15:00";
  return "must be an ISO 8601 date-time in UTC, such as 2026-12-20T03:15:00Z";
}

/** "a string or a number", "true or false or null": what each option of a union wanted, when each was refused for its type. */
function unionReason(errors: readonly (readonly z.core.$ZodIssue[])[]): string | undefined {
  const wanted: string[] = [];
  for (const option of errors) {
    const atRoot = option.find((i) => i.path.length === 0);
    if (atRoot?.code === "invalid_type" && TYPE_NOUNS[atRoot.expected]) wanted.push(TYPE_NOUNS[atRoot.expected]!);
    else if (atRoot?.code === "invalid_value") wanted.push(...atRoot.values.map(shown));
    else return undefined;
  }
  return wanted.length > 0 ? `must be ${[...new Set(wanted)].join(" or ")}` : undefined;
}

/**
 * A schema issue in words a person can act on, or undefined to leave it to zod. Set as zod's
 * error map for the process (see above), so it sees each issue's input.
 * @example plainReason({ code: "invalid_type", expected: "string", input: undefined }) // "is required"
 * @example plainReason({ code: "too_small", origin: "number", minimum: 0, inclusive: false, input: 0 }) // "must be greater than 0"
 */
export function plainReason(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined && !["undefined", "void", "never"].includes(issue.expected)) return "is required";
      if (issue.expected === "never" || issue.expected === "undefined" || issue.expected === "void") return "is not allowed";
      return TYPE_NOUNS[issue.expected] ? `must be ${TYPE_NOUNS[issue.expected]}` : `must be of type ${issue.expected}`;
    case "too_small":
      return sizeLimit(issue, issue.minimum, "min");
    case "too_big":
      return sizeLimit(issue, issue.maximum, "max");
    case "invalid_format":
      if (issue.format === "datetime") return datetimeReason(issue.inst);
      if (issue.format === "starts_with") return `must start with ${JSON.stringify(issue.prefix)}`;
      if (issue.format === "ends_with") return `must end with ${JSON.stringify(issue.suffix)}`;
      if (issue.format === "includes") return `must contain ${JSON.stringify(issue.includes)}`;
      if (issue.format === "regex") return `must match the pattern ${String(issue.pattern)}`;
      return FORMATS[issue.format] ?? `must be a valid ${issue.format.replaceAll("_", " ")}`;
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}`;
    case "unrecognized_keys":
      return issue.keys.length === 1 ? `has a field it does not take: ${issue.keys[0]!}` : `has fields it does not take: ${issue.keys.join(", ")}`;
    case "invalid_value":
      if (issue.input === undefined && !issue.values.includes(undefined)) return "is required";
      return issue.values.length === 1 ? `must be ${shown(issue.values[0])}` : `must be one of ${issue.values.map(shown).join(", ")}`;
    case "invalid_union":
      // A discriminated union: the issue is at the discriminator, whose value matched no option.
      if (issue.discriminator !== undefined && Array.isArray(issue.options) && issue.options.length > 0) {
        const value = typeof issue.input === "object" && issue.input !== null ? (issue.input as Record<string, unknown>)[issue.discriminator] : undefined;
        return value === undefined ? "is required" : `must be one of ${issue.options.map(shown).join(", ")}`;
      }
      if (issue.input === undefined) return "is required";
      if (issue.inclusive === false) return "matches more than one of the forms it may take";
      return unionReason(issue.errors) ?? "matches none of the forms it may take";
    case "invalid_key":
      return issue.issues[0] ? `is a key that ${issue.issues[0].message}` : "is not a key it takes";
    case "invalid_element":
      return issue.issues[0] ? `holds a value that ${issue.issues[0].message}` : "holds a value it does not take";
    case "custom":
      return "is not valid";
    default:
      return undefined;
  }
}

z.config({ customError: plainReason });
