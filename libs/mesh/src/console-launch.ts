import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CONSOLE_DEFAULT_PORTS } from '@mayfly/config';
import { waitForHealthy } from '@mayfly/grpc';
import { ensureDevPki } from '@mayfly/pki';
import { startDevIdentityProvider, type DevIdentityProvider, type DevIdentityProviderOptions } from './dev-identity-provider.js';
import type { DevIssuer } from './dev-issuer.js';
import type { Mesh } from './mesh.js';
import { freePorts } from './mesh.js';
import { ServiceProcess } from './service-process.js';

/** The development identity provider's default port, beside the console's. */
export const DEV_IDP_DEFAULT_PORT = 7458;

export interface ConsoleLaunchOptions {
  readonly mesh: Mesh;
  /** The development PKI the mesh uses (its CA signs the console's and the provider's certificates). */
  readonly pkiDir: string;
  readonly trustDomain?: string;
  /** The people issuer whose key the development provider signs with (the one issuance trusts). */
  readonly people: DevIssuer;
  /** The console's default ports and the provider's 7458, or free ones. */
  readonly ports?: 'default' | 'free';
  /** Who may sign in at the development provider (default: the demo people). */
  readonly directory?: DevIdentityProviderOptions['directory'];
  /** Further environment for the console (MAYFLY_CONSOLE_LIVE_POLL_MS, ...). */
  readonly env?: Readonly<Record<string, string>>;
  readonly onLine?: (line: string) => void;
}

export interface RunningConsole {
  /** Where people open it. */
  readonly url: string;
  readonly identityProvider: DevIdentityProvider;
  readonly process: ServiceProcess<'console'>;
  stop(): Promise<void>;
}

/**
 * The console beside a local mesh: the development people's OpenID Connect provider (in this
 * process) and the console as a process of its own, with a mesh certificate of its own
 * (spiffe://<trust domain>/mayfly/console), signing people in against that provider. For
 * `npm start` and the end-to-end tests.
 */
export async function startConsoleWithDevProvider(options: ConsoleLaunchOptions): Promise<RunningConsole> {
  const trustDomain = options.trustDomain ?? 'mayfly.local';
  const pki = await ensureDevPki(options.pkiDir, trustDomain, ['console', 'dev-idp']);
  const [port, healthPort, metricsPort, idpPort] =
    options.ports === 'free' ? await freePorts(4) : [CONSOLE_DEFAULT_PORTS.https, CONSOLE_DEFAULT_PORTS.health, CONSOLE_DEFAULT_PORTS.metrics, DEV_IDP_DEFAULT_PORT];
  const url = `https://127.0.0.1:${port}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const identityProvider = await startDevIdentityProvider({
    people: options.people,
    port: idpPort!,
    tls: { cert: readFileSync(pki.identity('dev-idp').certFile), key: readFileSync(pki.identity('dev-idp').keyFile) },
    console: { redirectUri: `${url}/auth/callback`, postLogoutRedirectUri: `${url}/signed-out` },
    clientSecret,
    ...(options.directory ? { directory: options.directory } : {}),
  });
  const child = new ServiceProcess(
    'console',
    {
      ...process.env,
      ...options.mesh.env,
      MAYFLY_TLS_CERT_FILE: pki.identity('console').certFile,
      MAYFLY_TLS_KEY_FILE: pki.identity('console').keyFile,
      MAYFLY_CONSOLE_PORT: String(port),
      MAYFLY_CONSOLE_HEALTH_PORT: String(healthPort),
      MAYFLY_CONSOLE_METRICS_PORT: String(metricsPort),
      MAYFLY_CONSOLE_URL: url,
      MAYFLY_CONSOLE_OIDC_ISSUER: identityProvider.issuer,
      MAYFLY_CONSOLE_OIDC_DISCOVERY_URL: identityProvider.discoveryUrl,
      MAYFLY_CONSOLE_OIDC_CLIENT_SECRET: clientSecret,
      MAYFLY_CONSOLE_OIDC_CA_FILE: pki.caFile,
      ...options.env,
    },
    (_service, line) => options.onLine?.(line),
  );
  child.start();
  try {
    await Promise.race([
      waitForHealthy(`127.0.0.1:${healthPort}`, 30_000),
      new Promise<never>((_, reject) => child.onExit((code) => reject(new Error(`the console exited (code ${code}) while starting:\n${child.lastLines}`)))),
    ]);
  } catch (error) {
    await child.stop();
    await identityProvider.close();
    throw error;
  }
  return {
    url,
    identityProvider,
    process: child,
    stop: async () => {
      await child.stop();
      await identityProvider.close();
    },
  };
}
