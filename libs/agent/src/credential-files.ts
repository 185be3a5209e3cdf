import type { GrantLogin } from '@mayfly/client';
import type { GrantConfig } from './agent-config.js';

/** The credential a grant holds right now, as the agent writes it out. */
export interface HeldCredential {
  readonly token: string;
  readonly login?: Omit<GrantLogin, 'validUntil'> | undefined;
}

/** A file to write and what goes in it. */
export interface CredentialFile {
  readonly path: string;
  readonly content: string;
  /** Which setting asked for it, for errors: "files.dsn". */
  readonly setting: string;
}

/** A grant's files asked for something its resource does not give (a DSN for a token). */
export class CredentialShapeError extends Error {
  override readonly name = 'CredentialShapeError';
}

/** MAYFLY_<NAME>_…: the grant's name as an environment variable prefix. */
export function envPrefix(grantName: string): string {
  return `MAYFLY_${grantName.toUpperCase().replaceAll('-', '_')}`;
}

/**
 * The variables a command run by the agent gets for one grant: <PREFIX>_TOKEN always; for a
 * login also _DSN, _HOST, _PORT, _USER, _PASSWORD and _DATABASE.
 */
export function credentialEnv(grant: GrantConfig, held: HeldCredential): Record<string, string> {
  const prefix = envPrefix(grant.name);
  const env: Record<string, string> = { [`${prefix}_TOKEN`]: held.token };
  const login = held.login;
  if (login) {
    Object.assign(env, {
      [`${prefix}_DSN`]: login.connectionString,
      [`${prefix}_HOST`]: login.host,
      [`${prefix}_PORT`]: String(login.port),
      [`${prefix}_USER`]: login.user,
      [`${prefix}_PASSWORD`]: login.password,
      [`${prefix}_DATABASE`]: login.database ?? '',
    });
  }
  return env;
}

/** Every file the grant's config names, with its content for the credential held now. */
export function credentialFiles(grant: GrantConfig, held: HeldCredential): CredentialFile[] {
  const files: CredentialFile[] = [];
  const login = held.login;
  const needsLogin = (setting: string): NonNullable<HeldCredential['login']> => {
    if (!login) throw new CredentialShapeError(`grant ${grant.name}: files.${setting} asks for a login, but ${grant.resource} gives access tokens (no dynamic login is registered for it); write files.token instead`);
    return login;
  };
  if (grant.tokenFile) files.push({ path: grant.tokenFile, content: `${held.token}\n`, setting: 'files.token' });
  if (grant.dsnFile) files.push({ path: grant.dsnFile, content: `${needsLogin('dsn').connectionString}\n`, setting: 'files.dsn' });
  if (grant.pgpassFile) {
    const pg = needsLogin('pgpass');
    if (pg.system !== 'postgresql') throw new CredentialShapeError(`grant ${grant.name}: files.pgpass is for PostgreSQL logins; ${grant.resource} is ${pg.system} (use files.dsn or files.env)`);
    // .pgpass: host:port:database:user:password, with ':' and '\' escaped.
    const field = (value: string) => value.replace(/[\\:]/g, (c) => `\\${c}`);
    files.push({ path: grant.pgpassFile, content: `${[pg.host, String(pg.port), pg.database ?? '*', pg.user, pg.password].map(field).join(':')}\n`, setting: 'files.pgpass' });
  }
  if (grant.envFile) {
    // Shell syntax (`. file` or `set -a; . file`): each value single-quoted, so nothing in it is expanded.
    const lines = Object.entries(credentialEnv(grant, held)).map(([key, value]) => `${key}='${value.replaceAll("'", "'\\''")}'`);
    files.push({ path: grant.envFile, content: `${lines.join('\n')}\n`, setting: 'files.env' });
  }
  return files;
}
