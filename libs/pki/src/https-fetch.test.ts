import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevPki, type DevPki } from './dev-pki.js';
import { httpsFetch } from './https-fetch.js';

// A real https server on loopback, with a certificate from a real (development) CA.
let pki: DevPki;
let server: Server;
let url: string;

beforeAll(async () => {
  pki = await ensureDevPki(mkdtempSync(join(tmpdir(), 'mayfly-pki-test-')), 'mayfly.test', ['decision', 'issuance']);
  const decision = pki.identity('decision');
  server = createServer({ cert: readFileSync(decision.certFile), key: readFileSync(decision.keyFile) }, (_req, res) => res.end('{"keys":[]}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/jwks`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const get = (fetcher: ReturnType<typeof httpsFetch>, target = url) => fetcher(target, { headers: new Headers(), signal: AbortSignal.timeout(2_000) });

describe('httpsFetch', () => {
  it('fetches from a server whose certificate chains to the CA and names the pinned SPIFFE ID', async () => {
    const response = await get(httpsFetch({ ca: readFileSync(pki.caFile), spiffeId: 'spiffe://mayfly.test/mayfly/decision' }));
    expect(await response.text()).toBe('{"keys":[]}');
  });

  it('refuses a server of the same CA that is not the pinned identity', async () => {
    await expect(get(httpsFetch({ ca: readFileSync(pki.caFile), spiffeId: 'spiffe://mayfly.test/mayfly/issuance' }))).rejects.toThrow(
      /does not name spiffe:\/\/mayfly.test\/mayfly\/issuance/,
    );
  });

  it('refuses a server whose CA it does not trust, with or without the system store', async () => {
    await expect(get(httpsFetch({}))).rejects.toThrow();
    await expect(get(httpsFetch({ ca: readFileSync(pki.caFile), withSystemRoots: true }))).resolves.toBeDefined();
  });

  it('refuses plain http unless development mode allows it', async () => {
    await expect(get(httpsFetch({ ca: readFileSync(pki.caFile) }), 'http://127.0.0.1:1/jwks')).rejects.toThrow(/plain http/);
  });
});
