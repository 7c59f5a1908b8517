// Where Tagih may POST on its own initiative: agencies' endpoints and the systems a strategy's
// `notify` step tells. Ops type those URLs, so without a check they could make the worker
// call anything its network reaches (a cloud metadata service, an admin port on loopback).
// Address ranges are classified by ipaddr.js rather than by hand-written masks.
import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
// undici's own fetch, not the global one: only it takes an Agent whose connections resolve
// through our checked lookup, whichever undici Node bundles.
import { Agent, fetch, type Response } from "undici";

/**
 * "refuse": https only, to hosts on public addresses; "allow": http and private networks too
 * (agencies and internal systems on the creditor's own network, local trials).
 */
export type PrivateEndpoints = "refuse" | "allow";

// Reachable under "allow"; every other non-public range (link-local and its metadata
// services, multicast, reserved, unspecified) is refused whatever the setting.
const PRIVATE_RANGES = new Set(["private", "loopback", "uniqueLocal", "carrierGradeNat"]);

/** Why Tagih must not send to `address` under `setting`, or undefined when it may. */
function addressProblem(address: string, setting: PrivateEndpoints): string | undefined {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  if (range === "unicast") return undefined;
  if (setting === "allow" && PRIVATE_RANGES.has(range)) return undefined;
  const shown = parsed.toString();
  return PRIVATE_RANGES.has(range)
    ? `is a private address (${shown}); set TAGIH_PRIVATE_ENDPOINTS=allow to reach your own network`
    : `is not a routable public address (${shown}, ${range})`;
}

/**
 * What is wrong with `url` as an endpoint Tagih POSTs to, judged from the URL alone (the
 * protocol, a literal address or localhost): a registration is refused with it.
 * @example endpointProblem("http://10.0.0.5/hook", "refuse") // "must be an https URL"
 */
export function endpointProblem(url: string, setting: PrivateEndpoints): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be an absolute URL";
  }
  if (parsed.protocol !== "https:" && !(setting === "allow" && parsed.protocol === "http:")) {
    return setting === "allow" ? "must be an http or https URL" : "must be an https URL (set TAGIH_PRIVATE_ENDPOINTS=allow for http)";
  }
  const host = hostOf(parsed);
  if (isIP(host)) {
    const problem = addressProblem(host, setting);
    return problem && `host ${problem}`;
  }
  if (setting === "refuse" && (host === "localhost" || host.endsWith(".localhost")))
    return `host is this machine (${host}); set TAGIH_PRIVATE_ENDPOINTS=allow to reach it`;
  return undefined;
}

/** A host's addresses, as a connection would find them. */
export type Resolver = (host: string) => Promise<string[]>;

const resolveAll: Resolver = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

export interface EndpointPost {
  headers: Record<string, string>;
  body: string;
  setting: PrivateEndpoints;
  /** Names the account and step, or the placement, in every error. */
  context: string;
  timeoutMs: number;
  resolve?: Resolver;
}

/**
 * POSTs to an endpoint Tagih sends to on its own initiative. Refused with an
 * `EndpointRefusedError`: what `endpointProblem` refuses, and a host that resolves to an
 * address the setting does not allow (a public name can point at a private address). The
 * addresses are checked as the connection is made, and it is made to the addresses checked:
 * a name whose answer changes between a check and the connection (DNS rebinding) cannot lead
 * it elsewhere. No redirects: one would lead past the check. Network errors, DNS included,
 * throw a plain error naming the endpoint and `context`: the caller's retries decide.
 */
export async function postToEndpoint(url: string, { headers, body, setting, context, timeoutMs, resolve = resolveAll }: EndpointPost): Promise<Response> {
  const problem = endpointProblem(url, setting);
  if (problem) throw new EndpointRefusedError(`endpoint ${url} refused (${context}): ${problem}`);
  try {
    return await fetch(url, {
      method: "POST",
      headers,
      body,
      redirect: "error",
      dispatcher: dispatcherFor(setting, resolve),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as Error).cause ?? error;
    if (cause instanceof EndpointRefusedError) throw new EndpointRefusedError(`endpoint ${url} refused (${context}): ${cause.message}`);
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") throw new Error(`endpoint ${url} could not be resolved (${context}): ${code}`, { cause: error });
    throw new Error(`endpoint ${url} unreachable (${context}): ${code ?? String(cause)}`, { cause: error });
  }
}

// One connection pool per setting (connections are checked once, when made); a test's own
// resolver gets its own.
const dispatchers = new Map<PrivateEndpoints, Agent>();

function dispatcherFor(setting: PrivateEndpoints, resolve: Resolver): Agent {
  if (resolve !== resolveAll) return new Agent({ connect: { lookup: checkedLookup(setting, resolve) } });
  let agent = dispatchers.get(setting);
  if (!agent) dispatchers.set(setting, (agent = new Agent({ connect: { lookup: checkedLookup(setting, resolve) } })));
  return agent;
}

/** A `dns.lookup` for `net.connect` that fails with an `EndpointRefusedError` on an address the setting refuses. */
function checkedLookup(setting: PrivateEndpoints, resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    const checked = async () => {
      const addresses = await resolve(hostname);
      if (addresses.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
      for (const address of addresses) {
        const refused = addressProblem(address, setting);
        if (refused) throw new EndpointRefusedError(`${hostname} ${refused}`);
      }
      return addresses.map((address) => ({ address, family: isIP(address) }));
    };
    // The callback runs outside the promise, as dns.lookup's does: were it to throw, it
    // must not be called a second time with the error.
    checked().then(
      (found) =>
        process.nextTick(() =>
          options.all ? (callback as (error: null, addresses: LookupAddress[]) => void)(null, found) : callback(null, found[0]!.address, found[0]!.family),
        ),
      (error: NodeJS.ErrnoException) => process.nextTick(() => callback(error, "", 0)),
    );
  };
}

/** The URL's host, an IPv6 address without its brackets. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

export class EndpointRefusedError extends Error {
  override name = "EndpointRefusedError";
}
