import { describe, expect, it } from "vitest";
import { z } from "zod";
import { minorAmountSchema } from "./money.ts";
import { plainReason } from "./plain-reason.ts";

const reasons = (schema: z.ZodType, value: unknown) => {
  const parsed = schema.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.map((i) => [i.path.join("."), i.message]);
};
const shape = z.object({ kind: z.literal("a") });

describe("plainReason: zod's issues in the product's words", () => {
  it.each([
    // missing values and wrong types
    ["a missing string", z.object({ name: z.string() }), {}, [["name", "is required"]]],
    ["a missing number", z.object({ n: z.number() }), {}, [["n", "is required"]]],
    ["a missing enum value", z.object({ e: z.enum(["x", "y"]) }), {}, [["e", "is required"]]],
    ["a missing literal", z.object({ l: z.literal("x") }), {}, [["l", "is required"]]],
    ["a number for a string", z.string(), 5, [["", "must be a string"]]],
    [
      "a list for a string (a form field sent twice)",
      z.object({ MessageStatus: z.string() }),
      { MessageStatus: ["sent", "delivered"] },
      [["MessageStatus", "must be a string"]],
    ],
    ["null for a string", z.string(), null, [["", "must be a string"]]],
    ["a string for a number", z.number(), "5", [["", "must be a number"]]],
    ["NaN for a number", z.number(), NaN, [["", "must be a number"]]],
    ["a fraction for a whole number", z.number().int(), 1.5, [["", "must be a whole number"]]],
    ["a string for a boolean", z.boolean(), "yes", [["", "must be true or false"]]],
    ["a string for an object", z.object({}), "x", [["", "must be an object"]]],
    ["an object for a list", z.array(z.string()), {}, [["", "must be a list"]]],
    ["a string for a record", z.record(z.string(), z.number()), "x", [["", "must be an object"]]],
    ["a string for a date", z.date(), "x", [["", "must be a date"]]],
    ["a value where none is allowed", z.object({ n: z.never() }), { n: 1 }, [["n", "is not allowed"]]],
    // bounds, in plain words
    ["a string shorter than 1", z.string().min(1), "", [["", "must be at least 1 character"]]],
    ["a string shorter than 3", z.string().min(3), "ab", [["", "must be at least 3 characters"]]],
    ["a string longer than 100", z.string().max(100), "x".repeat(101), [["", "must be at most 100 characters"]]],
    ["a string of the wrong length", z.string().length(2), "abc", [["", "must be exactly 2 characters"]]],
    ["zero for a positive number", z.number().positive(), 0, [["", "must be greater than 0"]]],
    ["a negative for a non-negative number", z.number().nonnegative(), -1, [["", "must be at least 0"]]],
    ["a number below its minimum", z.number().min(5), 4, [["", "must be at least 5"]]],
    ["a number above its maximum", z.number().max(10), 11, [["", "must be at most 10"]]],
    ["a number not below a bound", z.number().lt(10), 10, [["", "must be less than 10"]]],
    ["a whole number past 2^53", z.number().int(), 2 ** 60, [["", "must be at most 9007199254740991"]]],
    ["a bigint above its maximum", z.bigint().max(5n), 6n, [["", "must be at most 5"]]],
    ["an empty list", z.array(z.string()).min(1), [], [["", "must have at least 1 item"]]],
    ["a list too long", z.array(z.number()).max(2), [1, 2, 3], [["", "must have at most 2 items"]]],
    [
      "a date too early",
      z.date().min(new Date("2026-01-01T00:00:00Z")),
      new Date("2025-12-31T00:00:00Z"),
      [["", "must be on or after 2026-01-01T00:00:00.000Z"]],
    ],
    ["a number off its step", z.number().multipleOf(5), 7, [["", "must be a multiple of 5"]]],
    // formats
    ["an email", z.email(), "budi@", [["", "must be an email address"]]],
    ["a URL", z.url(), "not a url", [["", "must be a URL"]]],
    ["a UUID", z.uuid(), "123", [["", "must be a UUID"]]],
    [
      "a date-time without an offset where one is needed",
      z.iso.datetime({ offset: true }),
      "2026-12-20T10:15:00",
      [["", "must be an ISO 8601 date-time with an offset, such as 2026-12-20T10:15:00+07:00"]],
    ],
    ["a date-time in UTC", z.iso.datetime(), "2026-12-20T10:15:00+07:00", [["", "must be an ISO 8601 date-time in UTC, such as 2026-12-20T03:15:00Z"]]],
    ["a local date-time", z.iso.datetime({ local: true }), "tomorrow", [["", "must be an ISO 8601 date-time, such as 2026-12-20T10:15:00"]]],
    ["a date", z.iso.date(), "25/12/2026", [["", "must be a date written YYYY-MM-DD, such as 2026-12-25"]]],
    ["a time", z.iso.time(), "10h15", [["", "must be a time written HH:MM or HH:MM:SS, such as 10:15"]]],
    ["a duration", z.iso.duration(), "3 days", [["", "must be an ISO 8601 duration, such as P3D or PT12H"]]],
    ["an E.164 number", z.e164(), "0812", [["", "must be an E.164 number"]]],
    ["an IPv4 address", z.ipv4(), "300.1.1.1", [["", "must be an IPv4 address"]]],
    ["a prefix", z.string().startsWith("AC"), "SM1", [["", 'must start with "AC"']]],
    ["a suffix", z.string().endsWith(".csv"), "a.txt", [["", 'must end with ".csv"']]],
    ["a pattern without a message", z.string().regex(/^[a-z]+$/), "A1", [["", "must match the pattern /^[a-z]+$/"]]],
    ["lower case", z.string().lowercase(), "ABC", [["", "must be in lower case"]]],
    // values, keys and unions
    ["an enum value", z.enum(["sms", "email", "whatsapp"]), "fax", [["", "must be one of sms, email, whatsapp"]]],
    ["a literal", z.literal("promise"), "recall", [["", "must be promise"]]],
    ["a field the object does not take", z.strictObject({ a: z.string() }), { a: "x", b: 1 }, [["", "has a field it does not take: b"]]],
    ["fields the object does not take", z.strictObject({}), { b: 1, c: 2 }, [["", "has fields it does not take: b, c"]]],
    ["a value of neither type of a union", z.union([z.string(), z.number()]), true, [["", "must be a string or a number"]]],
    ["a value of none of a union's literals", z.union([z.literal("a"), z.literal("b"), z.null()]), "c", [["", "must be a or b or null"]]],
    ["a union left out", z.object({ u: z.union([z.string(), z.number()]) }), {}, [["u", "is required"]]],
    ["an unknown discriminator", z.discriminatedUnion("kind", [shape, z.object({ kind: z.literal("b") })]), { kind: "c" }, [["kind", "must be one of a, b"]]],
    ["a missing discriminator", z.discriminatedUnion("kind", [shape, z.object({ kind: z.literal("b") })]), {}, [["kind", "is required"]]],
    ["a refinement without a message", z.string().refine(() => false), "x", [["", "is not valid"]]],
    // a message the schema words itself is kept
    ["a check's own message", z.string().min(16, "must be at least 16 characters long"), "x", [["", "must be at least 16 characters long"]]],
    ["a regex's own message", z.string().regex(/^AC/, "must be a Twilio account SID"), "x", [["", "must be a Twilio account SID"]]],
    ["a schema's own error", z.string({ error: "must be text" }), 1, [["", "must be text"]]],
    ["a refinement's own message", z.number().refine((n) => n < 0, "must be negative"), 1, [["", "must be negative"]]],
    ["a union's own error", z.union([z.string(), z.number()], { error: "must be an id" }), true, [["", "must be an id"]]],
    // path prefixes are zod's, untouched
    [
      "a nested field",
      z.object({ accounts: z.array(z.object({ email: z.email() })) }),
      { accounts: [{ email: "x" }] },
      [["accounts.0.email", "must be an email address"]],
    ],
  ] as const)("%s", (_what, schema, value, expected) => {
    expect(reasons(schema as z.ZodType, value)).toEqual(expected);
  });

  it.each([
    [0, "must be greater than 0"],
    [1.5, "must be a positive integer in minor units (a number or a digit string)"],
    [2 ** 53, "is larger than a JSON number holds exactly: send it as a digit string"],
    [-(2 ** 60), "must be a positive integer in minor units (a number or a digit string)"],
    [-5, "must be greater than 0"],
    ["0", "must be greater than 0"],
    ["007", "must be a positive integer in minor units (a number or a digit string)"],
    ["12a", "must be a positive integer in minor units (a number or a digit string)"],
    ["1000000000000000000", "must be at most 999999999999999999"],
    ["99999999999999999999", "must be at most 999999999999999999"],
  ])("words the minor amount %j as %s", (value, reason) => {
    expect(reasons(minorAmountSchema, value)).toEqual([["", reason]]);
  });

  it("says a minor amount left out is required", () => {
    expect(reasons(z.object({ amountMinor: minorAmountSchema }), {})).toEqual([["amountMinor", "is required"]]);
  });

  it("leaves an issue it does not know to zod", () => {
    expect(plainReason({ code: "something_new", input: 1 } as unknown as z.core.$ZodRawIssue)).toBeUndefined();
  });
});
