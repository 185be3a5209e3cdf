import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { dirname } from 'node:path';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

/**
 * A stand-in for the OIDC issuer a workload's platform provides (Kubernetes, a CI system, a
 * cloud IdP), for development, the demo and tests: it signs evidence tokens with its own
 * ES256 key and can publish its JWKS over HTTP. Not for production.
 */
export class DevIssuer {
  private constructor(
    readonly issuer: string,
    private readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
    /** The private key as a JWK (with kid and alg), for a development identity provider that signs with it. */
    readonly signingJwk: JWK,
  ) {}

  /** A new key, or the one kept in keyFile (created there, mode 0600, if missing). */
  static async create(issuer: string, keyFile?: string): Promise<DevIssuer> {
    let privateJwk: JWK;
    if (keyFile && existsSync(keyFile)) {
      privateJwk = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
    } else {
      const pair = await generateKeyPair('ES256', { extractable: true });
      privateJwk = await exportJWK(pair.privateKey);
      if (keyFile) {
        mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
        writeFileSync(keyFile, JSON.stringify(privateJwk), { mode: 0o600 });
      }
    }
    const { d: _private, ...publicFields } = privateJwk;
    const kid = await calculateJwkThumbprint(publicFields);
    const privateKey = (await importJWK({ ...privateJwk, alg: 'ES256' }, 'ES256')) as CryptoKey;
    return new DevIssuer(issuer, privateKey, { ...publicFields, kid, alg: 'ES256', use: 'sig' }, { ...privateJwk, kid, alg: 'ES256', use: 'sig' });
  }

  get jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  /** Evidence for `subject`, as the platform would issue it. */
  async mint(subject: string, options: { audience: string; ttlSeconds?: number; claims?: Record<string, unknown> }): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    // A fresh jti, as real issuers add: two tokens minted in the same second are two tokens.
    const token = await new SignJWT({ jti: randomUUID(), ...options.claims })
      .setProtectedHeader({ alg: 'ES256', kid: this.publicJwk.kid as string, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(subject)
      .setAudience(options.audience)
      .setIssuedAt(typeof options.claims?.['iat'] === 'number' ? options.claims['iat'] : now)
      .setExpirationTime(now + (options.ttlSeconds ?? 300))
      .sign(this.privateKey);
    return withLowS(token);
  }

  /**
   * Serves /.well-known/jwks.json on 127.0.0.1:port (0 = any free port): over https with the
   * given certificate and key (what attestation accepts outside development mode), else http.
   */
  async serveJwks(port = 0, tls?: { cert: Buffer | string; key: Buffer | string }): Promise<{ url: string; close: () => Promise<void> }> {
    const body = JSON.stringify(this.jwks);
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      if (req.url === '/.well-known/jwks.json') res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      else res.writeHead(404).end();
    };
    const server: Server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createServer(handler);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    return {
      url: `${tls ? 'https' : 'http'}://127.0.0.1:${bound}/.well-known/jwks.json`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}

const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * WebCrypto's ECDSA leaves s wherever it falls; Mayfly (like Bitcoin and many JOSE stacks)
 * refuses the upper half by default, because (r, n − s) is a second valid spelling of one
 * signature. A careful issuer normalises, so this one does.
 */
export function withLowS(token: string): string {
  const s = BigInt(`0x${Buffer.from(token.split('.')[2]!, 'base64url').subarray(32).toString('hex')}`);
  return s <= P256_ORDER / 2n ? token : ecdsaTwin(token);
}

/** The other valid ES256 signature over the same content: (r, n − s). For tests of respelling. */
export function ecdsaTwin(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const bytes = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  const twin = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return `${header}.${payload}.${Buffer.concat([bytes.subarray(0, 32), twin]).toString('base64url')}`;
}
