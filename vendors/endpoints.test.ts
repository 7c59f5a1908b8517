import { describe, expect, it } from "vitest";
import { checkEndpoint, endpointProblem, EndpointRefusedError, type PrivateEndpoints } from "./endpoints.ts";

describe("endpoints Tagih POSTs to (agencies, notify steps)", () => {
  it.each<[string, PrivateEndpoints, string | undefined]>([
    ["https://agency.example.com/tagih", "refuse", undefined],
    ["https://52.84.1.10/hook", "refuse", undefined],
    ["http://agency.example.com/tagih", "refuse", "must be an https URL (set TAGIH_PRIVATE_ENDPOINTS=allow for http)"],
    ["http://agency.example.com/tagih", "allow", undefined],
    ["ftp://agency.example.com/", "allow", "must be an http or https URL"],
    ["https://10.1.2.3/hook", "refuse", "host is a private address (10.1.2.3); set TAGIH_PRIVATE_ENDPOINTS=allow to reach your own network"],
    ["https://192.168.0.9/hook", "refuse", expect.stringContaining("private address") as unknown as string],
    ["https://127.0.0.1:9/hook", "refuse", expect.stringContaining("private address") as unknown as string],
    ["https://[::1]/hook", "refuse", expect.stringContaining("private address") as unknown as string],
    ["https://[::ffff:127.0.0.1]/hook", "refuse", expect.stringContaining("private address (127.0.0.1)") as unknown as string],
    ["https://[fd00::5]/hook", "refuse", expect.stringContaining("private address") as unknown as string],
    ["https://100.64.0.1/hook", "refuse", expect.stringContaining("private address") as unknown as string],
    ["https://localhost:8443/hook", "refuse", "host is this machine (localhost); set TAGIH_PRIVATE_ENDPOINTS=allow to reach it"],
    ["http://127.0.0.1:9/hook", "allow", undefined],
    ["http://10.1.2.3/hook", "allow", undefined],
    ["http://localhost:9/hook", "allow", undefined],
    // A cloud metadata service, whatever the setting.
    ["http://169.254.169.254/latest/meta-data/", "allow", "host is not a routable public address (169.254.169.254, linkLocal)"],
    ["https://169.254.169.254/", "refuse", "host is not a routable public address (169.254.169.254, linkLocal)"],
    ["http://0.0.0.0:9/", "allow", "host is not a routable public address (0.0.0.0, unspecified)"],
    ["http://[fe80::1]/", "allow", expect.stringContaining("linkLocal") as unknown as string],
    ["not a url", "allow", "must be an absolute URL"],
  ])("%s under %s: %s", (url, setting, problem) => {
    expect(endpointProblem(url, setting)).toEqual(problem);
  });

  const resolver = (answers: Record<string, string[]>) => (host: string) => Promise.resolve(answers[host] ?? []);

  it("refuses, before sending, a public name that resolves to a private or link-local address, naming the account's step", async () => {
    const dns = resolver({ "agency.example.com": ["52.84.1.10", "10.0.0.7"], "meta.example.com": ["169.254.169.254"], "ok.example.com": ["52.84.1.11"] });
    await expect(checkEndpoint("https://ok.example.com/n", "refuse", "enrolment e1, step s1", dns)).resolves.toBeUndefined();
    const refused = checkEndpoint("https://agency.example.com/n", "refuse", "enrolment e1, step s1", dns);
    await expect(refused).rejects.toBeInstanceOf(EndpointRefusedError);
    await expect(refused).rejects.toThrow(
      "endpoint https://agency.example.com/n refused (enrolment e1, step s1): agency.example.com is a private address (10.0.0.7); set TAGIH_PRIVATE_ENDPOINTS=allow to reach your own network",
    );
    await expect(checkEndpoint("http://agency.example.com/n", "allow", "x", dns)).resolves.toBeUndefined();
    await expect(checkEndpoint("http://meta.example.com/n", "allow", "x", dns)).rejects.toThrow("169.254.169.254, linkLocal");
    await expect(checkEndpoint("http://10.0.0.7/n", "refuse", "x", dns)).rejects.toThrow("must be an https URL");
    // A name that does not resolve is no refusal (it may resolve later), and says which step it was for.
    const unresolved = checkEndpoint("https://gone.example.com/n", "refuse", "placement p1", () =>
      Promise.reject(Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" })),
    );
    await expect(unresolved).rejects.toThrow("endpoint https://gone.example.com/n could not be resolved (placement p1): ENOTFOUND");
    await expect(unresolved).rejects.not.toBeInstanceOf(EndpointRefusedError);
  });
});
