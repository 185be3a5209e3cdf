import { request } from 'node:https';

/** The fetch signature jose's remote key sets use. */
export type JwksFetch = (url: string, options: { headers: Headers; signal: AbortSignal }) => Promise<Response>;

/**
 * A fetch for https URLs that trusts exactly `ca` (a PEM bundle), e.g. the mesh CA that signs
 * issuance's certificate, rather than the system store. Plain http URLs (development only) go
 * through the global fetch.
 */
export function fetchTrustingCa(ca: Buffer | string): JwksFetch {
  return (url, options) => {
    if (!url.startsWith('https:')) return fetch(url, options);
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, { method: 'GET', ca, headers: Object.fromEntries(options.headers), signal: options.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (typeof value === 'string') headers.set(name, value);
            else if (Array.isArray(value)) value.forEach((v) => headers.append(name, v));
          }
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers }));
        });
      });
      req.on('error', reject);
      req.end();
    });
  };
}
