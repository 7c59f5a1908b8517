import { describe, expect, it } from "vitest";
import { parseTwiml } from "./twiml.ts";

describe("parseTwiml", () => {
  it("reads top-level verbs, attributes and text", () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
      <Response>
        <!-- <Hangup/> inside a comment is ignored -->
        <Say voice="Polly.Aditi" language='hi-IN'>Namaste &amp; welcome</Say>
        <Gather action="/ivr/menu?a=1&amp;b=2" numDigits="1" method="POST">
          <Say>Press 1</Say><Pause length="2"/>
        </Gather>
        <Redirect method="POST">https://tagih.example.com/ivr/again</Redirect>
        <Hangup/>
      </Response>`;
    expect(parseTwiml(xml)).toEqual([
      { name: "Say", attributes: { voice: "Polly.Aditi", language: "hi-IN" }, text: "Namaste & welcome" },
      { name: "Gather", attributes: { action: "/ivr/menu?a=1&b=2", numDigits: "1", method: "POST" }, text: "Press 1" },
      { name: "Redirect", attributes: { method: "POST" }, text: "https://tagih.example.com/ivr/again" },
      { name: "Hangup", attributes: {}, text: "" },
    ]);
  });

  it("returns nothing for a document without <Response>", () => {
    expect(parseTwiml("<html>oops</html>")).toEqual([]);
    expect(parseTwiml("<Response/>")).toEqual([]);
  });
});
