import { createServer } from 'node:net';

import { SandboxError } from './errors.ts';

/**
 * Asks the kernel for a free loopback port by binding port 0, then releases it. Another
 * process may take it before we bind it again; callers treat "address already in use" from a
 * child as SANDBOX_ERR_PORT_IN_USE and retry with fresh ports.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Fails with SANDBOX_ERR_PORT_IN_USE when a port the user asked for is taken. */
export function assertPortFree(port: number, what: string, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new SandboxError(
              'SANDBOX_ERR_PORT_IN_USE',
              `port ${host}:${port} for ${what} is already in use`,
              { cause: err },
            )
          : err,
      );
    });
    server.listen(port, host, () => server.close(() => resolve()));
  });
}
