import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { describePortHolder } from './port-holder.js';
import { inUse } from './server.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  sockets.splice(0).forEach((socket) => socket.destroy());
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(): Promise<number> {
  const server = createServer((socket) => sockets.push(socket));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe.runIf(process.platform === 'linux')('describePortHolder', () => {
  it('names the process listening on the port', async () => {
    const port = await listen();
    expect(describePortHolder(port)).toContain(`port ${port} is held by pid ${process.pid} (`);
    expect(describePortHolder(port)).toContain('listening');
  });

  it('names an outgoing connection whose local port it is (the ephemeral-range collision)', async () => {
    const port = await listen();
    const client = connect(port, '127.0.0.1');
    sockets.push(client);
    await new Promise((resolve) => client.once('connect', resolve));
    const local = client.localPort!;
    expect(describePortHolder(local)).toMatch(new RegExp(`port ${local} is held by pid ${process.pid} .*a connection to 127\\.0\\.0\\.1:${port}`));
  });

  it('says when nothing visible holds the port', () => {
    expect(describePortHolder(1)).toMatch(/port 1 is in use \(no socket on it is visible now/);
  });

  it("a bind failure's message names the port, its holder and how to move off it", async () => {
    const port = await listen();
    const text = inUse(new Error(`listen EADDRINUSE: address already in use 127.0.0.1:${port}`), port);
    expect(text).toContain(`port ${port} is held by pid ${process.pid}`);
    expect(text).toContain('MAYFLY_<SERVICE>_PORT');
    expect(inUse(new Error('permission denied'), port)).toBe('');
  });
});
