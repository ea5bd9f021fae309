// The few lines every loopback service shares: listen with a clear error, name its endpoint, close
// without waiting on idle keep-alive sockets held by SDK clients.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
          ? new Error(`${host}:${port} is in use${envName ? `: set ${envName} to a free port` : ''}`)
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
