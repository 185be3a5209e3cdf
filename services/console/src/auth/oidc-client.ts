import { readFileSync } from 'node:fs';
import * as oauth from 'oauth4webapi';
import { createRemoteJWKSet, customFetch as joseFetch, jwtVerify, type JWTPayload } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { MayflyError } from '@mayfly/core';

export interface OidcClientOptions {
  readonly issuer: string;
  readonly discoveryUrl: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  /** The CA bundle to check the provider's certificate with (system roots when unset). */
  readonly caFile: string | undefined;
  /** The console's callback: <public url>/auth/callback. */
  readonly redirectUri: string;
}

/** What a sign-in must remember between sending the person away and their coming back. */
export interface SignInAttempt {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface SignedIn {
  readonly idToken: string;
  readonly claims: JWTPayload;
}

/**
 * The console as an OpenID Connect relying party: the authorization code flow with PKCE (S256),
 * state and nonce, against the people's provider (oauth4webapi). The ID token it gets back is the
 * person's proof for issuance, which checks it again on every call; the console also checks its
 * signature here (jose, the provider's jwks_uri) before it opens a session on it.
 */
export class OidcClient {
  private server: oauth.AuthorizationServer | undefined;
  private keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  private readonly client: oauth.Client;
  private readonly auth: oauth.ClientAuth;
  private readonly fetcher: typeof fetch;

  constructor(private readonly options: OidcClientOptions) {
    this.client = { client_id: options.clientId };
    this.auth = options.clientSecret ? oauth.ClientSecretBasic(options.clientSecret) : oauth.None();
    const dispatcher = options.caFile ? new Agent({ connect: { ca: readFileSync(options.caFile) } }) : undefined;
    this.fetcher = ((url: string | URL, init?: RequestInit) => undiciFetch(url, { ...(init as object), ...(dispatcher ? { dispatcher } : {}) })) as unknown as typeof fetch;
  }

  /** The provider's metadata, fetched once (and again after a failure). */
  async authorizationServer(): Promise<oauth.AuthorizationServer> {
    if (this.server) return this.server;
    let response: Response;
    try {
      response = await this.fetcher(this.options.discoveryUrl, { headers: { accept: 'application/json' } });
    } catch (error) {
      throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `the identity provider's discovery document (${this.options.discoveryUrl}) cannot be fetched: ${(error as Error).message}`, { cause: error });
    }
    // The issuer in the document must be the one configured (MAYFLY_CONSOLE_OIDC_ISSUER), wherever the document was fetched.
    this.server = await oauth.processDiscoveryResponse(new URL(this.options.issuer), response);
    if (!this.server.jwks_uri) throw new MayflyError('ERR_CONFIG', `the identity provider ${this.options.issuer} publishes no jwks_uri`);
    this.keys = createRemoteJWKSet(new URL(this.server.jwks_uri), { [joseFetch]: this.fetcher as never });
    return this.server;
  }

  /** A new attempt and the provider's authorization URL to send the person to. */
  async startSignIn(): Promise<{ attempt: SignInAttempt; url: URL }> {
    const server = await this.authorizationServer();
    if (!server.authorization_endpoint) throw new MayflyError('ERR_CONFIG', `the identity provider ${this.options.issuer} has no authorization_endpoint`);
    const attempt: SignInAttempt = { state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce(), codeVerifier: oauth.generateRandomCodeVerifier() };
    const url = new URL(server.authorization_endpoint);
    url.searchParams.set('client_id', this.options.clientId);
    url.searchParams.set('redirect_uri', this.options.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', 'openid email profile groups');
    url.searchParams.set('state', attempt.state);
    url.searchParams.set('nonce', attempt.nonce);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(attempt.codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return { attempt, url };
  }

  /** The person's ID token for the callback URL they came back with; throws when it is not the answer to `attempt`. */
  async finishSignIn(callback: URL, attempt: SignInAttempt): Promise<SignedIn> {
    const server = await this.authorizationServer();
    const parameters = oauth.validateAuthResponse(server, this.client, callback, attempt.state);
    const response = await oauth.authorizationCodeGrantRequest(server, this.client, this.auth, parameters, this.options.redirectUri, attempt.codeVerifier, { [oauth.customFetch]: this.fetcher });
    const result = await oauth.processAuthorizationCodeResponse(server, this.client, response, { expectedNonce: attempt.nonce, requireIdToken: true });
    if (!result.id_token) throw new MayflyError('ERR_TOKEN_INVALID', 'the identity provider answered without an ID token');
    const { payload } = await jwtVerify(result.id_token, this.keys!, { issuer: this.options.issuer, audience: this.options.clientId });
    return { idToken: result.id_token, claims: payload };
  }

  /** Where to send a person who signs out (the provider's end-session endpoint), if it has one. */
  async signOutUrl(idToken: string, returnTo: string): Promise<string | undefined> {
    const server = await this.authorizationServer().catch(() => undefined);
    if (!server?.end_session_endpoint) return undefined;
    const url = new URL(server.end_session_endpoint);
    url.searchParams.set('id_token_hint', idToken);
    url.searchParams.set('post_logout_redirect_uri', returnTo);
    url.searchParams.set('client_id', this.options.clientId);
    return url.href;
  }
}
