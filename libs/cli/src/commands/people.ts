import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONSOLE_DEFAULT_PORTS } from '@mayfly/config';
import { DEV_IDP_DEFAULT_PORT, devPeopleIssuer, personToken, startDevIdentityProvider } from '@mayfly/mesh';
import type { CommandContext } from '../command.js';
import { PORT, wholeNumber } from '../flags.js';

/**
 * `mayfly people …`: the development people issuer, the stand-in for an organisation's identity
 * provider on local stacks (npm start, compose). Never for production: there, people sign in with
 * the provider MAYFLY_APPROVER_ISSUER and MAYFLY_CONSOLE_OIDC_ISSUER name.
 */

const ISSUER_KEY_FILE = 'dev-people-issuer.jwk';

/**
 * `mayfly people token <email> --groups G[,G]`: an ID token from the development people issuer
 * that `npm start` trusts (its key in the state directory). For local runs and the demo only:
 * in production, people sign in with the identity provider MAYFLY_APPROVER_ISSUER names.
 */
export async function token(context: CommandContext): Promise<void> {
  const email = context.args[0];
  if (!email) throw new Error('usage: mayfly people token <email> --groups G[,G]');
  requireIssuerKey(context, 'this works against a mesh started here with npm start; elsewhere, sign in with your identity provider');
  const groups = (context.flags.groups ?? '').split(',').filter(Boolean);
  const idToken = await personToken(await devPeopleIssuer(context.stateDir), email, groups);
  if (context.out.json) context.out.document({ email, groups, idToken });
  else process.stdout.write(`${idToken}\n`);
}

/**
 * `mayfly people init --out FILE`: the development people issuer's key in the state directory
 * (made unless it exists) and its public key set in FILE, for issuance's MAYFLY_APPROVER_JWKS.
 * Compose's init-people job runs it, so that approvals, break-glass reviews and `mayfly people
 * token` work in a local stack the way they do under `npm start`. Never for production.
 */
export async function init(context: CommandContext): Promise<void> {
  const out = context.flags.out;
  if (!out) throw new Error('usage: mayfly people init --out FILE (the public key set issuance trusts; the private key stays in MAYFLY_STATE_DIR)');
  const existed = existsSync(join(context.stateDir, ISSUER_KEY_FILE));
  const people = await devPeopleIssuer(context.stateDir);
  writeFileSync(out, `${JSON.stringify(people.jwks)}\n`, { mode: 0o644 });
  context.out.say(`${existed ? 'kept' : 'made'} the development people issuer ${people.issuer} in ${context.stateDir}; its key set is in ${out} (MAYFLY_APPROVER_JWKS)`);
  context.out.document({ issuer: people.issuer, jwksFile: out, created: !existed });
}

/**
 * `mayfly people serve [--host H] [--port 7458]`: the development OpenID Connect provider the
 * console signs the demo people in with (compose's `people` service; `npm start` runs the same
 * provider in its own process). It signs with the people issuer's key from the state directory
 * (`mayfly people init` made it), so issuance accepts its ID tokens. From the environment, as the
 * console reads them: MAYFLY_CONSOLE_URL (its sign-in callback), MAYFLY_CONSOLE_OIDC_CLIENT_SECRET
 * (the client secret the two share), and its HTTPS certificate MAYFLY_TLS_CERT_FILE and
 * MAYFLY_TLS_KEY_FILE. Runs until SIGINT or SIGTERM.
 */
export async function serve(context: CommandContext): Promise<void> {
  requireIssuerKey(context, 'run `mayfly people init --out FILE` with the same MAYFLY_STATE_DIR first');
  const consoleUrl = (process.env['MAYFLY_CONSOLE_URL'] ?? `https://127.0.0.1:${CONSOLE_DEFAULT_PORTS.https}`).replace(/\/+$/, '');
  const clientSecret = process.env['MAYFLY_CONSOLE_OIDC_CLIENT_SECRET'];
  const certFile = process.env['MAYFLY_TLS_CERT_FILE'];
  const keyFile = process.env['MAYFLY_TLS_KEY_FILE'];
  const missing = [
    clientSecret ? '' : 'MAYFLY_CONSOLE_OIDC_CLIENT_SECRET (the console\'s client secret, the same value the console is given)',
    certFile ? '' : 'MAYFLY_TLS_CERT_FILE (its HTTPS certificate)',
    keyFile ? '' : 'MAYFLY_TLS_KEY_FILE (that certificate\'s key)',
  ].filter(Boolean);
  if (missing.length > 0) throw new Error(`mayfly people serve needs ${missing.join(', ')}`);
  const host = context.flags.host ?? process.env['MAYFLY_HOST'] ?? '127.0.0.1';
  const port = wholeNumber(context.flags.port, '--port', PORT, DEV_IDP_DEFAULT_PORT);
  const provider = await startDevIdentityProvider({
    people: await devPeopleIssuer(context.stateDir),
    host,
    port,
    tls: { cert: readFileSync(certFile!), key: readFileSync(keyFile!) },
    console: { redirectUri: `${consoleUrl}/auth/callback`, postLogoutRedirectUri: `${consoleUrl}/signed-out` },
    clientSecret: clientSecret!,
  });
  context.out.say(`development identity provider for ${provider.issuer} on https://${host}:${port} (console ${consoleUrl}); NOT for production: any password is accepted`);
  await new Promise<void>((resolve) => {
    const stop = (): void => void provider.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function requireIssuerKey(context: CommandContext, advice: string): void {
  if (!existsSync(join(context.stateDir, ISSUER_KEY_FILE))) throw new Error(`no development people issuer in ${context.stateDir}: ${advice}`);
}
