import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import Provider, { type ProviderContext } from 'oidc-provider';
import type { DevIssuer } from './dev-issuer.js';
import { DEV_PEOPLE, DEV_PEOPLE_DIRECTORY } from './dev-people.js';

export interface DevIdentityProviderOptions {
  /** The people issuer whose key signs the ID tokens (the same issuer and key `mayfly people token` uses). */
  readonly people: DevIssuer;
  /** Where it listens (127.0.0.1); 0 for any free port. */
  readonly port: number;
  /** Its HTTPS certificate and key (from the development PKI: the console checks them against the mesh CA). */
  readonly tls: { readonly cert: Buffer | string; readonly key: Buffer | string };
  /** The console's sign-in callback and where sign-out returns to. */
  readonly console: { readonly redirectUri: string; readonly postLogoutRedirectUri: string };
  /** The console's client secret (client_secret_basic). */
  readonly clientSecret: string;
}

export interface DevIdentityProvider {
  /** Where its discovery document is: https://127.0.0.1:<port>/.well-known/openid-configuration. */
  readonly discoveryUrl: string;
  readonly issuer: string;
  close(): Promise<void>;
}

/**
 * A development OpenID Connect provider for people (oidc-provider from the registry): the console
 * signs people in against it with the authorization code flow and PKCE. It knows the demo people
 * (DEV_PEOPLE_DIRECTORY), takes any password (its login page says so), and signs ID tokens with
 * the development people issuer's key under that issuer's name, so issuance accepts them exactly
 * as it accepts `mayfly people token`'s. Not for production: point the console at the
 * organisation's provider instead (MAYFLY_CONSOLE_OIDC_ISSUER).
 */
export async function startDevIdentityProvider(options: DevIdentityProviderOptions): Promise<DevIdentityProvider> {
  const provider = new Provider(options.people.issuer, {
    clients: [
      {
        client_id: DEV_PEOPLE.audience,
        client_secret: options.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [options.console.redirectUri],
        post_logout_redirect_uris: [options.console.postLogoutRedirectUri],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [options.people.signingJwk] },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    // The ID token carries the claims its scopes name (the console reads no userinfo).
    conformIdTokenClaims: false,
    findAccount: (_context: unknown, id: string) => {
      const person = DEV_PEOPLE_DIRECTORY[id.trim().toLowerCase()];
      if (!person) return undefined;
      const email = id.trim().toLowerCase();
      return { accountId: email, claims: () => ({ sub: email, email, email_verified: true, name: person.name, groups: [...person.groups] }) };
    },
    // The console is first party: no consent screen.
    loadExistingGrant: async (context: ProviderContext) => {
      const { oidc } = context;
      const clientId = oidc.client?.clientId ?? '';
      const existing = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(clientId);
      if (existing) return oidc.provider.Grant.find(existing);
      const grant = new oidc.provider.Grant({ clientId, accountId: oidc.session?.accountId ?? '' });
      grant.addOIDCScope('openid email profile groups');
      await grant.save();
      return grant;
    },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: { IdToken: 600, AuthorizationCode: 60, Session: 3600, Interaction: 600, Grant: 3600 },
  });
  const server: Server = createServer({ cert: options.tls.cert, key: options.tls.key }, provider.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    discoveryUrl: `https://127.0.0.1:${port}/.well-known/openid-configuration`,
    issuer: options.people.issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
