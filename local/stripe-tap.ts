// A measurement tap on the functions' Stripe requests: a loopback proxy in front of the sandbox that
// only the functions are pointed at, so a test or the bench counts what the product asks of Stripe
// apart from its own setup calls (which go to the sandbox directly). Bytes pass through unchanged.
import { Agent, createServer, request as httpRequest } from 'node:http';
import { listen, serviceOf, type LocalService } from './http-service.ts';

export interface StripeCall {
  /** The function that made it (handle-webhook, send-notice…). */
  functionName: string;
  method: string;
  /** The path and query as sent, e.g. `/v1/invoices/in_123?expand[0]=customer`. */
  path: string;
  /** Stripe's answer: 200, 402 for a decline, 429… (0 when the sandbox could not be reached). */
  status: number;
}

/** Sees each Stripe request a function made, once the sandbox has answered it. */
export interface StripeCallTap {
  answered(call: StripeCall): void;
}

export async function startStripeTap(upstream: string, host: string, functionName: string, tap: StripeCallTap): Promise<LocalService> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method, path, headers: { ...req.headers, host: target.host }, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => tap.answered({ functionName, method, path, status: answer.statusCode ?? 0 }));
      },
    );
    forward.on('error', () => {
      tap.answered({ functionName, method, path, status: 0 });
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"error":{"type":"api_error","message":"the sandbox could not be reached"}}');
    });
    req.pipe(forward);
  });
  await listen(server, 0, host);
  const service = serviceOf(server);
  return {
    endpoint: service.endpoint,
    close: async () => {
      await service.close();
      agent.destroy();
    },
  };
}
