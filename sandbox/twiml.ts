/**
 * A small TwiML reader for the verbs a call flow needs: the top-level verbs of `<Response>`,
 * their attributes and text. `<Gather>` keeps its nested verbs' text (what is said while
 * waiting for keys). No DOM, no dependency.
 *
 * @example
 * parseTwiml('<Response><Gather action="/ivr/menu" numDigits="1"><Say>Press 1</Say></Gather></Response>');
 * // [{ name: "Gather", attributes: { action: "/ivr/menu", numDigits: "1" }, text: "Press 1" }]
 */
export interface TwimlVerb {
  name: string;
  attributes: Record<string, string>;
  /** Text content with nested tags removed and entities decoded. */
  text: string;
}

export function parseTwiml(xml: string): TwimlVerb[] {
  const inner = /<Response\b[^>]*>([\s\S]*?)<\/Response>/.exec(xml)?.[1];
  if (inner === undefined) return [];
  const body = inner.replace(/<!--[\s\S]*?-->/g, "");
  const verbs: TwimlVerb[] = [];
  const tag = /<([A-Za-z]+)\b((?:[^>"']|"[^"]*"|'[^']*')*?)(\/>|>([\s\S]*?)<\/\1\s*>)/g;
  for (const match of body.matchAll(tag)) {
    verbs.push({
      name: match[1] ?? "",
      attributes: parseAttributes(match[2] ?? ""),
      text: decode(
        (match[4] ?? "")
          .replace(/<[^>]*>/g, " ")
          .replace(/\s+/g, " ")
          .trim(),
      ),
    });
  }
  return verbs;
}

function parseAttributes(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const m of source.matchAll(/([A-Za-z_:][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    attributes[m[1] ?? ""] = decode(m[2] ?? m[3] ?? "");
  }
  return attributes;
}

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
    if (entity[0] !== "#") return named[entity.toLowerCase()] ?? "";
    const code = entity[1]?.toLowerCase() === "x" ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
    return String.fromCodePoint(code);
  });
}
