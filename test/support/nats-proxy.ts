import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { freePort } from '@mayfly/mesh';

/** A TCP proxy in front of NATS that can cut every connection and refuse new ones, then heal. */
export async function natsProxy(target: URL): Promise<{ url: string; cut(): void; heal(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = tcpConnect(Number(target.port || 4222), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `nats://127.0.0.1:${port}`,
    cut: () => {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    heal: () => void (open = true),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
