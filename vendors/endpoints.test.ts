import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpointProblem, EndpointRefusedError, postToEndpoint, type PrivateEndpoints } from "./endpoints.ts";

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

  describe("postToEndpoint", () => {
    let server: Server;
    let port: number;
    const received: { host: string | undefined; body: string }[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
          received.push({ host: req.headers.host, body });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise((r) => server.close(r)));
    const post = (url: string, setting: PrivateEndpoints, resolve: (host: string) => Promise<string[]>, context = "enrolment e1, step s1") =>
      postToEndpoint(url, { headers: { "content-type": "application/json" }, body: "{}", setting, context, timeoutMs: 5_000, resolve });

    it("connects to the address it checked, for a name under allow", async () => {
      const response = await post(`http://agency.example.com:${port}/n`, "allow", resolver({ "agency.example.com": ["127.0.0.1"] }));
      expect(response.status).toBe(204);
      expect(received.at(-1)).toEqual({ host: `agency.example.com:${port}`, body: "{}" });
    });

    it("refuses, without sending, a public name that resolves to a private or link-local address, naming the account's step", async () => {
      const before = received.length;
      const dns = resolver({ "agency.example.com": ["52.84.1.10", "10.0.0.7"], "meta.example.com": ["169.254.169.254"], "mine.example.com": ["127.0.0.1"] });
      const refused = post("https://agency.example.com/n", "refuse", dns);
      await expect(refused).rejects.toBeInstanceOf(EndpointRefusedError);
      await expect(refused).rejects.toThrow(
        "endpoint https://agency.example.com/n refused (enrolment e1, step s1): agency.example.com is a private address (10.0.0.7); set TAGIH_PRIVATE_ENDPOINTS=allow to reach your own network",
      );
      await expect(post(`https://mine.example.com:${port}/n`, "refuse", dns)).rejects.toThrow("mine.example.com is a private address (127.0.0.1)");
      await expect(post(`http://meta.example.com:${port}/n`, "allow", dns)).rejects.toThrow("169.254.169.254, linkLocal");
      await expect(post("http://10.0.0.7/n", "refuse", dns)).rejects.toThrow("must be an https URL");
      expect(received.length).toBe(before);
    });

    // Before, the name was checked and then resolved again by fetch: a second answer
    // (DNS rebinding) reached an address the check never saw.
    it("resolves once per connection and connects to the address it checked", async () => {
      const answers = [["127.0.0.1"], ["169.254.169.254"]];
      let asked = 0;
      const rebinding = () => Promise.resolve(answers[asked++] ?? []);
      expect((await post(`http://rebind.example.com:${port}/n`, "allow", rebinding)).status).toBe(204);
      expect(asked).toBe(1);
    });

    it("a name that does not resolve, or an endpoint that does not answer, is no refusal (the caller retries) and says which step it was for", async () => {
      const unresolved = post(
        "https://gone.example.com/n",
        "refuse",
        () => Promise.reject(Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" })),
        "placement p1",
      );
      await expect(unresolved).rejects.toThrow("endpoint https://gone.example.com/n could not be resolved (placement p1): ENOTFOUND");
      await expect(unresolved).rejects.not.toBeInstanceOf(EndpointRefusedError);
      const gone = createServer();
      await new Promise<void>((r) => gone.listen(0, "127.0.0.1", r));
      const closedPort = (gone.address() as AddressInfo).port;
      await new Promise((r) => gone.close(r));
      const closed = post(`http://agency.example.com:${closedPort}/n`, "allow", resolver({ "agency.example.com": ["127.0.0.1"] }), "placement p2");
      await expect(closed).rejects.toThrow(`endpoint http://agency.example.com:${closedPort}/n unreachable (placement p2): ECONNREFUSED`);
    });
  });
});
