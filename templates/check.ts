import Handlebars from "handlebars";
import type { Channel } from "../domain/channel.ts";
import { withOptOutInstruction } from "../domain/keywords.ts";
import type { CampaignStrategy } from "../domain/strategy.ts";
import { emailSections, shippedTemplates, TEMPLATE_HELPERS, type CampaignTemplate } from "./render.ts";

/** What `contextFor` gives every template (see TemplateContext). */
const ACCOUNT_VARIABLES = ["name", "firstName", "amountDue", "currency", "dueDate", "locale", "timeZone", "creditor"];
const VARIABLES: Record<Channel, ReadonlySet<string>> = {
  sms: new Set(ACCOUNT_VARIABLES),
  whatsapp: new Set(ACCOUNT_VARIABLES),
  email: new Set([...ACCOUNT_VARIABLES, "unsubscribeUrl"]),
  // A call's greeting is spoken with the IVR's options (api/webhooks/twilio-voice.ts `speak`).
  voice: new Set([...ACCOUNT_VARIABLES, "payOption", "agentOption"]),
};

/** The variables a template of this channel renders with. */
export const variablesFor = (channel: Channel): ReadonlySet<string> => VARIABLES[channel];

/** Twilio refuses a longer message body (error 21617). */
export const SMS_MAX_CHARS = 1600;

// Helpers whose block runs against another context: names inside are not the account's.
const SCOPING_HELPERS = new Set(["each", "with"]);

const at = (node: hbs.AST.Node) => `at line ${node.loc.start.line}, column ${node.loc.start.column + 1}`;

/**
 * What would make a Handlebars source fail, or render a blank, for some account: a parse
 * error, a variable outside `variables`, a helper we do not have, a helper given the wrong
 * number of arguments, a partial. Strict rendering catches some of these only when the line
 * runs, and none inside a helper's arguments (`{{date dueDtae}}` renders ""), so the source is
 * read as a whole.
 * @example sourceProblems("Hi {{nmae}}", variablesFor("sms")) // ['unknown variable "nmae" at line 1, column 6 (variables: name, …)']
 */
export function sourceProblems(source: string, variables: ReadonlySet<string>): string[] {
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(source);
  } catch (error) {
    const lines = (error as Error).message.split("\n");
    return [`does not parse: ${lines.length > 1 ? `${lines[0]} ${lines.at(-1)}` : lines[0]}`];
  }
  const problems: string[] = [];
  const known = `(variables: ${[...variables].join(", ")})`;

  const variable = (path: hbs.AST.PathExpression, scoped: boolean) => {
    if (path.data) {
      // @root.x is the account's x wherever it is written; @index and the like belong to #each.
      if (path.parts[0] === "root" && path.parts.length > 1 && !variables.has(path.parts[1]!)) {
        problems.push(`unknown variable "${path.original}" ${at(path)} ${known}`);
      }
      return;
    }
    if (scoped || path.depth > 0 || path.parts.length === 0) return;
    if (!variables.has(path.parts[0]!) || path.parts.length > 1) problems.push(`unknown variable "${path.original}" ${at(path)} ${known}`);
  };
  const expression = (node: hbs.AST.Expression, scoped: boolean) => {
    if (node.type === "PathExpression") variable(node as hbs.AST.PathExpression, scoped);
    else if (node.type === "SubExpression") call(node as hbs.AST.SubExpression, scoped, true);
  };
  const call = (node: hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression, scoped: boolean, helper: boolean) => {
    const path = node.path as hbs.AST.PathExpression;
    if (path.type !== "PathExpression") return;
    const simple = !path.data && path.depth === 0 && path.parts.length === 1;
    const known = simple ? TEMPLATE_HELPERS[path.parts[0]!] : undefined;
    // Handlebars calls a helper whenever the name is one, with or without arguments.
    if (helper || node.params.length > 0 || node.hash?.pairs.length || known) {
      if (!known) problems.push(`unknown helper "${path.original}" ${at(path)} (helpers: ${Object.keys(TEMPLATE_HELPERS).join(", ")})`);
      else if (known.args !== undefined && node.params.length !== known.args) {
        problems.push(`the ${path.original} helper takes ${known.takes} (given ${node.params.length}) ${at(node)}`);
      }
    } else variable(path, scoped);
    for (const param of node.params) expression(param, scoped);
    for (const pair of node.hash?.pairs ?? []) expression(pair.value, scoped);
  };
  const walk = (block: hbs.AST.Program | undefined, scoped: boolean) => {
    for (const statement of block?.body ?? []) {
      switch (statement.type) {
        case "MustacheStatement":
          call(statement as hbs.AST.MustacheStatement, scoped, false);
          break;
        case "BlockStatement": {
          const node = statement as hbs.AST.BlockStatement;
          // {{#dueDate}}…{{/dueDate}} without arguments is a section over a value, not a helper.
          const section = node.params.length === 0 && !node.hash?.pairs.length && !TEMPLATE_HELPERS[node.path.original];
          call(node, scoped, !section);
          walk(node.program, scoped || section || SCOPING_HELPERS.has(node.path.original));
          walk(node.inverse, scoped);
          break;
        }
        case "PartialStatement":
        case "PartialBlockStatement":
          problems.push(`partials ({{> …}}) are not available ${at(statement)}`);
          break;
        case "DecoratorStatement":
        case "DecoratorBlock":
          problems.push(`decorators ({{* …}}) are not available ${at(statement)}`);
          break;
        default: // text and comments
      }
    }
  };
  walk(program, false);
  return problems;
}

/**
 * The fixed text a source renders at the least, taking the longer side of each block: what
 * any debtor's message holds however short their name and amount.
 */
function fixedText(block: hbs.AST.Program | undefined): string {
  let text = "";
  for (const statement of block?.body ?? []) {
    if (statement.type === "ContentStatement") text += (statement as hbs.AST.ContentStatement).value;
    else if (statement.type === "BlockStatement") {
      const [yes, no] = [fixedText((statement as hbs.AST.BlockStatement).program), fixedText((statement as hbs.AST.BlockStatement).inverse)];
      text += yes.length >= no.length ? yes : no;
    }
  }
  return text;
}

/** Characters as Twilio counts them (code points, so an emoji is one). */
export const smsLength = (text: string) => [...text].length;

/**
 * An SMS source that would render past Twilio's limit for some debtor even before its
 * variables are filled in, counting the opt-out instruction a text without STOP gets at
 * send time in the template's language (`withOptOutInstruction`).
 * @example smsLengthProblem("x".repeat(2000), "en") // "is 2000 characters without its variables; Twilio refuses an SMS over 1600 (error 21617)"
 */
export function smsLengthProblem(source: string, locale: string): string | undefined {
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(source);
  } catch {
    return undefined;
  }
  const fixed = fixedText(program).trim();
  const sent = withOptOutInstruction(fixed, "sms", locale);
  const length = smsLength(sent);
  if (length <= SMS_MAX_CHARS) return undefined;
  const added =
    sent === fixed
      ? ""
      : ` with the opt-out instruction added at its end (${smsLength(sent) - smsLength(fixed)} of them; write STOP in the text to word it yourself)`;
  return `is ${length} characters without its variables${added}; Twilio refuses an SMS over ${SMS_MAX_CHARS} (error 21617)`;
}

/** One problem of a template, with the field it is in (`body`, `contentVariables.1`). */
export interface TemplateFieldProblem {
  field: string;
  reason: string;
}

/**
 * Everything that would stop a stored template (a campaign's own, a library version or a
 * shipped file) from rendering for some account of its channel.
 * @example templateProblems({ channel: "sms", body: "Hi {{nmae}}" }) // [{ field: "body", reason: 'unknown variable "nmae" …' }]
 */
export function templateProblems(t: Pick<CampaignTemplate, "channel" | "locale" | "body" | "contentVariables">): TemplateFieldProblem[] {
  const variables = variablesFor(t.channel);
  const problems = sourceProblems(t.body, variables).map((reason) => ({ field: "body", reason }));
  if (problems.length === 0 && t.channel === "email") {
    try {
      emailSections(t.body);
    } catch (error) {
      problems.push({ field: "body", reason: (error as Error).message });
    }
  }
  const tooLong = t.channel === "sms" ? smsLengthProblem(t.body, t.locale) : undefined;
  if (tooLong) problems.push({ field: "body", reason: tooLong });
  for (const [key, source] of Object.entries(t.contentVariables ?? {})) {
    problems.push(...sourceProblems(source, variables).map((reason) => ({ field: `contentVariables.${key}`, reason })));
  }
  return problems;
}

/**
 * Why a campaign's contact steps could not send: a step's template found for its channel, or
 * for one of its fallbacks' channels, in no locale of the campaign's own templates, the library
 * and the shipped ones; or a template it may get that would not render. Each problem names
 * the step's field (`strategy.steps.0.template`, `variants.1.strategy.steps.0.template`) and
 * the template.
 * @example await strategyTemplateProblems(plan, { own: input.templates, library }, "strategy")
 */
export async function strategyTemplateProblems(
  plan: CampaignStrategy,
  stored: { own: CampaignTemplate[]; library: CampaignTemplate[] },
  givenAs: "strategy" | "variants",
): Promise<TemplateFieldProblem[]> {
  const problems: TemplateFieldProblem[] = [];
  const checked = new Map<string, string[]>();
  for (const [v, variant] of plan.variants.entries()) {
    if (!("strategy" in variant)) continue;
    for (const [s, step] of variant.strategy.steps.entries()) {
      if (step.kind !== "contact") continue;
      const field = givenAs === "strategy" ? `strategy.steps.${s}.template` : `variants.${v}.strategy.steps.${s}.template`;
      for (const channel of [...new Set([step.channel, ...step.fallbacks])]) {
        const key = `${channel}\u0000${step.template}`;
        let reasons = checked.get(key);
        if (!reasons) {
          reasons = await channelProblems(step.template, channel, stored);
          checked.set(key, reasons);
        }
        const role = channel === step.channel ? "its channel" : "a fallback";
        problems.push(...reasons.map((reason) => ({ field, reason: reason.replace("{role}", role) })));
      }
    }
  }
  return problems;
}

/**
 * Contact steps that may send WhatsApp (as their channel or a fallback) with a template no
 * version of which carries an approved Content template (`contentSid`): outside the 24-hour
 * window after a debtor's own message, WhatsApp sends only approved templates, so those
 * messages fail (`whatsapp-template-required`) and the step falls back. Lawful and launchable,
 * but rarely meant: the launch answers with these.
 * @example whatsappWithoutContent(plan, { own: [], library: [] }) // ['variants.0.strategy.steps.0.template: no approved WhatsApp Content …']
 */
export function whatsappWithoutContent(plan: CampaignStrategy, stored: { own: CampaignTemplate[]; library: CampaignTemplate[] }): string[] {
  const approved = new Set([...stored.own, ...stored.library].filter((t) => t.channel === "whatsapp" && t.contentSid).map((t) => t.name));
  return plan.variants.flatMap((variant, v) =>
    "strategy" in variant
      ? variant.strategy.steps.flatMap((step, s) =>
          step.kind === "contact" && [step.channel, ...step.fallbacks].includes("whatsapp") && !approved.has(step.template)
            ? [
                `variants.${v}.strategy.steps.${s}.template: no approved WhatsApp Content (contentSid) for "${step.template}": outside the 24 hours after a debtor's own message its WhatsApp messages fail (whatsapp-template-required) and the step falls back`,
              ]
            : [],
        )
      : [],
  );
}

async function channelProblems(name: string, channel: Channel, stored: { own: CampaignTemplate[]; library: CampaignTemplate[] }): Promise<string[]> {
  const candidates = [
    ...stored.own.filter((t) => t.name === name && t.channel === channel).map((t) => ({ label: `the campaign's template ${name}/${channel}/${t.locale}`, t })),
    ...stored.library
      .filter((t) => t.name === name && t.channel === channel)
      .map((t) => ({ label: `library template ${name}/${channel}/${t.locale} version ${t.version}`, t })),
    ...(await shippedTemplates(name, channel)).map(({ locale, body }) => ({
      label: `shipped template ${channel}/${locale}/${name}.hbs`,
      t: { channel, locale, body },
    })),
  ];
  if (candidates.length === 0) {
    return [`no ${channel} template "${name}" ({role}) in any locale of the campaign's templates, the library or the shipped ones`];
  }
  return candidates.flatMap(({ label, t }) => templateProblems(t).map((p) => `${label} (${channel}: {role}) ${p.field} ${p.reason}`));
}
