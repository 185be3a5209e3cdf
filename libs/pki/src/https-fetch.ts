import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { checkServerIdentity, rootCertificates, type PeerCertificate } from 'node:tls';

/** The fetch signature jose's remote key sets use. */
export type JwksFetch = (url: string, options: { headers: Headers; signal: AbortSignal }) => Promise<Response>;

export interface HttpsFetchOptions {
  /** PEM CA bundle to trust. Without it (and without caFile), the system store. */
  readonly ca?: Buffer | string | undefined;
  /** A file holding the PEM CA bundle, re-read for every fetch (a rotated bundle is used at once). */
  readonly caFile?: string | undefined;
  /** Trust the system store as well as `ca` (for issuers on public PKI plus a private one). */
  readonly withSystemRoots?: boolean;
  /**
   * The SPIFFE ID the server's certificate must name (a URI SAN), on top of the usual host name
   * check: a CA that signs every mesh identity must not let any of them serve the keys.
   */
  readonly spiffeId?: string | undefined;
  /** Let http: URLs through (development only). Otherwise they are refused. */
  readonly allowHttp?: boolean;
}

/**
 * A fetch for key sets (JWKS) that trusts exactly the configured CA and, if asked, only a
 * server whose certificate names a given SPIFFE ID. Plain http: is refused unless allowHttp:
 * keys fetched in the clear can be swapped by anyone on the path.
 */
export function httpsFetch(options: HttpsFetchOptions = {}): JwksFetch {
  const bundle = (): Buffer | string | undefined => (options.caFile ? readFileSync(options.caFile) : options.ca);
  return (url, init) => {
    const own = bundle();
    const ca = own === undefined ? undefined : options.withSystemRoots ? [...rootCertificates, own.toString()] : own;
    if (url.startsWith('http:')) {
      if (options.allowHttp) return fetch(url, init);
      return Promise.reject(new Error(`refusing to fetch keys over plain http (${url}); use https, or MAYFLY_INSECURE_DEV=true for development`));
    }
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'GET',
          ...(ca ? { ca } : {}),
          headers: Object.fromEntries(init.headers),
          signal: init.signal,
          checkServerIdentity: (host, certificate) => checkServerIdentity(host, certificate) ?? checkSpiffeId(certificate, options.spiffeId),
        },
        (res) => {
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
        },
      );
      req.on('error', reject);
      req.end();
    });
  };
}

/** The trust-the-mesh-CA fetch most callers want (kept for tools and tests). */
export function fetchTrustingCa(ca: Buffer | string, spiffeId?: string): JwksFetch {
  return httpsFetch({ ca, spiffeId, allowHttp: true });
}

function checkSpiffeId(certificate: PeerCertificate, expected: string | undefined): Error | undefined {
  if (expected === undefined) return undefined;
  const names = (certificate.subjectaltname ?? '').split(',').map((entry) => entry.trim());
  if (names.includes(`URI:${expected}`)) return undefined;
  return new Error(`the key server's certificate does not name ${expected} (it names ${names.filter((n) => n.startsWith('URI:')).join(', ') || 'no URI'})`);
}
