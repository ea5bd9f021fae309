// The few lines every loopback service shares: listen with a clear error, name its endpoint, close
// without waiting on idle keep-alive sockets held by SDK clients.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { SettingsError } from '#shared/command-line.ts';

/** How long requests in flight get to finish when a service closes. */
const DRAIN_MS = 2_000;

export interface LocalService {
  /** e.g. http://127.0.0.1:8000 */
  endpoint: string;
  close(): Promise<void>;
}

/** Listens on `port` (0 picks a free one); a port in use names the variable that moves it. */
export function listen(server: Server, port: number, host: string, envName?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new SettingsError(`${host}:${port} is in use${envName ? `: set ${envName} to a free port` : ''}`)
          : error,
      );
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * The service's URL, and a close that lets requests in flight finish for a moment, then drops every
 * connection: keep-alive sockets (SDK clients, webhook deliveries) would otherwise hold it open.
 */
export function serviceOf(server: Server): LocalService {
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    endpoint: `http://${hostPart}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), DRAIN_MS).unref();
      }),
  };
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/**
 * Whether a request is addressed to the service itself: its Host names this service's port and an
 * address of this machine (`localhost`, or the IP the service listens on). A web page that rebinds
 * its own DNS name to 127.0.0.1 sends its own name as Host, so it gets nothing from an endpoint
 * that reveals or changes state (DNS rebinding).
 */
export function addressedToSelf(req: IncomingMessage, endpoint: string): boolean {
  const own = new URL(endpoint);
  let host: URL;
  try {
    host = new URL(`http://${req.headers.host ?? ''}`);
  } catch {
    return false;
  }
  if ((host.port || '80') !== (own.port || '80')) return false;
  const name = host.hostname.replace(/^\[|\]$/g, '');
  const listening = own.hostname.replace(/^\[|\]$/g, '');
  if (LOOPBACK_NAMES.has(name)) return LOOPBACK_NAMES.has(listening) || listening === '0.0.0.0' || listening === '::';
  // Any address of this machine when listening on all of them; otherwise exactly the one it listens on.
  return isIP(name) !== 0 && (name === listening || listening === '0.0.0.0' || listening === '::');
}

/** What a handler of an AWS JSON-protocol stand-in answers: a status and a JSON body. */
export interface AwsJsonAnswer {
  status: number;
  body: unknown;
}

export interface AwsJsonServiceSpec {
  host: string;
  /** `application/x-amz-json-1.0` (SQS) or `-1.1` (Secrets Manager, EventBridge). */
  contentType: 'application/x-amz-json-1.0' | 'application/x-amz-json-1.1';
  /** The body answered, with 403, to a request not addressed to this service (DNS rebinding). */
  refused: unknown;
  /** The body answered, with 400, to a body that is not JSON. */
  notJson: unknown;
  /** Answers one request: its `X-Amz-Target`, its parsed body and the raw bytes (for size limits). */
  handle(target: string, body: Record<string, unknown>, raw: Buffer): AwsJsonAnswer;
}

/**
 * A loopback stand-in for a service of the AWS JSON protocols: reads the body, refuses a request
 * not addressed to itself and a body that is not JSON, and answers what `handle` returns, with the
 * protocol's content type and a request id, as the service would. Listening when it resolves.
 */
export async function startAwsJsonService(spec: AwsJsonServiceSpec): Promise<LocalService> {
  let endpoint = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = ({ status, body }: AwsJsonAnswer) => {
        res.writeHead(status, { 'content-type': spec.contentType, 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(body));
      };
      if (!addressedToSelf(req, endpoint)) return reply({ status: 403, body: spec.refused });
      const raw = Buffer.concat(chunks);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        return reply({ status: 400, body: spec.notJson });
      }
      reply(spec.handle(String(req.headers['x-amz-target'] ?? ''), body, raw));
    });
  });
  await listen(server, 0, spec.host);
  const service = serviceOf(server);
  endpoint = service.endpoint;
  return service;
}
