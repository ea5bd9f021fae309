// Listening on the sandbox's port: a port in use is a setting to change, so it gets its own error
// (with the address) that a host program can turn into its own advice, as the dunning runtime does.
import type { Server } from 'node:http';

/** The port the sandbox was asked for is taken: pick another (or 0 for a free one). */
export class PortInUseError extends Error {
  override name = 'PortInUseError' as const;
  readonly code = 'EADDRINUSE';
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`${host}:${port} is in use`);
  }
}

/** Listens on `port` (0 picks a free one). */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(host, port) : error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
