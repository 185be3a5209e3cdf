import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import Provider, { type ProviderContext } from 'oidc-provider';
import type { DevIssuer } from './dev-issuer.js';
import { DEV_PEOPLE, DEV_PEOPLE_DIRECTORY } from './dev-people.js';

export interface DevIdentityProviderOptions {
  /** The people issuer whose key signs the ID tokens (the same issuer and key `mayfly people token` uses). */
  readonly people: DevIssuer;
  /** Its port; 0 for any free port. */
  readonly port: number;
  /** The address it listens on (default 127.0.0.1; compose's people container: 0.0.0.0). */
  readonly host?: string;
  /** Its HTTPS certificate and key (from the development PKI: the console checks them against the mesh CA). */
  readonly tls: { readonly cert: Buffer | string; readonly key: Buffer | string };
  /** The console's sign-in callback and where sign-out returns to. */
  readonly console: { readonly redirectUri: string; readonly postLogoutRedirectUri: string };
  /** The console's client secret (client_secret_basic). */
  readonly clientSecret: string;
  /** Who may sign in, with their groups (default: the demo people, DEV_PEOPLE_DIRECTORY). */
  readonly directory?: Readonly<Record<string, { readonly name: string; readonly groups: readonly string[] }>>;
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
      const person = (options.directory ?? DEV_PEOPLE_DIRECTORY)[id.trim().toLowerCase()];
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
    // Its own login page (below), not oidc-provider's devInteractions: that one loads a web font from the internet and names no one.
    interactions: { url: (_context: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (context: { body: string }, form: string) => {
          context.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign out</title></head><body><h1>Sign out of the development identity provider?</h1>${form}<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button> <button type="submit" form="op.logoutForm">No, stay signed in</button></body></html>`;
        },
      },
    },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: { IdToken: 600, AuthorizationCode: 60, Session: 3600, Interaction: 600, Grant: 3600 },
  });
  const directory = options.directory ?? DEV_PEOPLE_DIRECTORY;
  const oidcRoutes = provider.callback();
  const server: Server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    if (!req.url?.startsWith('/interaction/')) return oidcRoutes(req, res);
    signInPrompt(provider, directory, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`sign-in failed: ${(error as Error).message}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', resolve);
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

type Directory = NonNullable<DevIdentityProviderOptions['directory']>;

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The provider's login step: GET shows the demo people (type one's email, any password), POST
 * signs that person in. An address outside the directory is refused on the page.
 */
async function signInPrompt(provider: Provider, directory: Directory, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const interaction = await provider.interactionDetails(req, res);
  if (req.method === 'POST') {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const login = (new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('login') ?? '').trim().toLowerCase();
    if (!directory[login]) return loginPage(res, interaction.uid, directory, `${login || 'nobody'} is not one of the development people`);
    return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  }
  loginPage(res, interaction.uid, directory);
}

function loginPage(res: ServerResponse, uid: string, directory: Directory, problem?: string): void {
  const people = Object.entries(directory)
    .map(([email, person]) => `<li><code>${escape(email)}</code> — ${escape(person.name)} (${escape(person.groups.join(', ') || 'no groups')})</li>`)
    .join('');
  res.writeHead(problem ? 401 : 200, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https:",
    'cache-control': 'no-store',
  });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Development sign-in</title>
<style>body{font:15px system-ui,sans-serif;max-width:560px;margin:48px auto;color:#1d2430}input{display:block;margin:6px 0 12px;padding:6px;width:100%}button{padding:8px 16px}.problem{color:#b42318}</style></head>
<body><h1>Development identity provider</h1>
<p>Not for production: any password is accepted for these people.</p>
${problem ? `<p class="problem" role="alert">${escape(problem)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
<label>Email <input name="login" type="email" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form><ul>${people}</ul></body></html>`);
}
