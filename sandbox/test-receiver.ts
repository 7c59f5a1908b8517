/**
 * Test helper: a tiny HTTP server standing in for our webhook endpoints. It records every request
 * with its raw body and answers with what `respond` returns (200, empty, by default).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  method: string;
  /** Path and query as requested. */
  path: string;
  headers: Record<string, string>;
  body: string;
  form(): Record<string, string>;
  json(): unknown;
}

export interface Reply {
  status?: number;
  body?: string;
  contentType?: string;
}

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  on(path: string): ReceivedRequest[];
  close(): Promise<void>;
}

export async function startReceiver(respond: (req: ReceivedRequest) => Reply | undefined = () => undefined): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = Object.fromEntries(Object.entries(incoming.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]));
      const req: ReceivedRequest = {
        method: incoming.method ?? "GET",
        path: incoming.url ?? "/",
        headers,
        body,
        form: () => Object.fromEntries(new URLSearchParams(body)),
        json: () => JSON.parse(body) as unknown,
      };
      requests.push(req);
      const reply = respond(req) ?? {};
      outgoing.writeHead(reply.status ?? 200, { "content-type": reply.contentType ?? "text/plain" });
      outgoing.end(reply.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    on: (path) => requests.filter((r) => r.path.split("?")[0] === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
