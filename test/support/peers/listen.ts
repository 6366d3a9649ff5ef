import type { Server } from 'node:net';

/**
 * Puts a peer's TCP server on 127.0.0.1 at `port` (0: any free one) and resolves with the port it
 * got. A peer switched off and on again (`comeBack`) listens at its old port with the same call,
 * so a client still trying that address finds it. Transport only: no protocol lives here, so the
 * peers stay independent of each other and of the code under test.
 */
export function listenOnLoopback(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('the peer has no TCP port'));
      else resolve(address.port);
    });
  });
}
