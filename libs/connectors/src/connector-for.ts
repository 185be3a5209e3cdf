import { readFileSync } from 'node:fs';
import { MayflyError } from '@mayfly/core';
import type { CheckableLogins } from './dynamic-login.js';
import { LazyLogins } from './lazy-logins.js';

/** A resource as the registry keeps it (the credential only by the path of its file). */
export interface ConnectedResource {
  readonly name: string;
  readonly kind: 'postgresql' | 'mariadb' | 'redis';
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly adminCredentialFile: string;
  readonly actions: Readonly<Record<string, readonly string[]>>;
  readonly connectionLimit: number;
}

/**
 * Reads the admin connection URL from its file at the moment it is needed (a rotated Secret is
 * picked up with no restart). The message names the file, never what it holds.
 */
export function readAdminUrl(resource: Pick<ConnectedResource, 'name' | 'adminCredentialFile'>): string {
  let text: string;
  try {
    text = readFileSync(resource.adminCredentialFile, 'utf8').trim();
  } catch (error) {
    throw new MayflyError('ERR_INVALID_ARGUMENT', `resource ${resource.name}: cannot read its admin credential file ${resource.adminCredentialFile} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, { field: 'admin_credential_file' });
  }
  try {
    new URL(text);
  } catch {
    throw new MayflyError('ERR_INVALID_ARGUMENT', `resource ${resource.name}: ${resource.adminCredentialFile} does not hold a connection URL (postgres://…, mysql://…, redis://…)`, { field: 'admin_credential_file' });
  }
  return text;
}

/**
 * The logins of one resource, connected with its admin credential. The admin credential file is
 * read now (a bad one is refused at once); the driver is loaded at the first call (LazyLogins).
 */
export function connectorFor(resource: ConnectedResource): CheckableLogins {
  const adminUrl = readAdminUrl(resource);
  const { name, host, port, database, actions, connectionLimit } = resource;
  switch (resource.kind) {
    case 'postgresql':
      return new LazyLogins('postgresql', async () => {
        const { PostgresqlLogins } = await import('./postgresql-logins.js');
        return new PostgresqlLogins({ name, adminUrl, host, port, database, actions, connectionLimit });
      });
    case 'mariadb': {
      const url = new URL(adminUrl);
      const admin = { host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
      return new LazyLogins('mariadb', async () => {
        const { MariadbLogins } = await import('./mariadb-logins.js');
        return new MariadbLogins({ name, admin, host, port, database, actions, connectionLimit });
      });
    }
    case 'redis':
      return new LazyLogins('redis', async () => {
        const { RedisLogins } = await import('./redis-logins.js');
        return new RedisLogins({ name, adminUrl, host, port, actions });
      });
  }
}
