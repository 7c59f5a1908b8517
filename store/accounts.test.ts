import { describe, expect, it } from "vitest";
import { namedColumns } from "./accounts.ts";

describe("namedColumns", () => {
  it.each([
    [{ externalId: "A-1", balance: "10" }, ""],
    [{ externalId: "A-1", phone: "0812", consentWhatsapp: "yes" }, "phone,consent_whatsapp"],
    // A consent object names only the consents it holds: the other is kept as stored.
    [{ externalId: "A-1", consent: { whatsapp: false } }, "consent_whatsapp"],
    [{ externalId: "A-1", consent: { autodialedCalls: true } }, "consent_autodialed"],
    [{ externalId: "A-1", consent: { whatsapp: true, autodialedCalls: true } }, "consent_whatsapp,consent_autodialed"],
    [{ externalId: "A-1", consent: {} }, ""],
    // null clears both, as null clears any optional field.
    [{ externalId: "A-1", consent: null }, "consent_whatsapp,consent_autodialed"],
  ])("%j names %j", (input, columns) => {
    expect(namedColumns(input)).toBe(columns);
  });
});
