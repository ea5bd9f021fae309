// The few lines every loopback service shares: listen with a clear error, name its endpoint, close
// without waiting on idle keep-alive sockets held by SDK clients.
import type { IncomingMessage, Server } from 'node:http';
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
