import { request } from 'node:https';
import type { PeerCertificate } from 'node:tls';

export interface FormAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

/**
 * One HTTPS request as a script would make it, for the token endpoint's hostile cases: the body
 * and headers exactly as given (a library would refuse to send most of them). The server must
 * name `spiffeId`; `cert`/`key` present a client certificate.
 */
export function httpsRequest(
  url: string,
  options: { ca: Buffer; spiffeId: string; method?: string; body?: string | Buffer; headers?: Record<string, string>; cert?: string; key?: string },
): Promise<FormAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'POST',
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        headers: options.headers ?? {},
        agent: false,
        checkServerIdentity: (_host: string, certificate: PeerCertificate) =>
          (certificate.subjectaltname ?? '').includes(`URI:${options.spiffeId}`) ? undefined : new Error(`the server is not ${options.spiffeId}`),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown> = {};
          try {
            body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            body = { text };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
