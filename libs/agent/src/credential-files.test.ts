import { describe, expect, it } from 'vitest';
import type { GrantConfig } from './agent-config.js';
import { CredentialShapeError, credentialEnv, credentialFiles } from './credential-files.js';

const grant = (files: Partial<GrantConfig>): GrantConfig => ({ name: 'orders-db', resource: 'pg:orders-db', actions: ['read'], ttlSeconds: 0, justification: '', tokenFile: undefined, dsnFile: undefined, pgpassFile: undefined, envFile: undefined, ...files });
const login = { system: 'postgresql', host: 'db.internal', port: 5432, database: 'orders', user: 'mayfly_g_1', password: "p:a\\ss'word", connectionString: 'postgres://mayfly_g_1:p%3Aa%5Css\'word@db.internal:5432/orders' };

describe('credential files', () => {
  it('writes the token alone on its line', () => {
    expect(credentialFiles(grant({ tokenFile: '/run/t' }), { token: 'eyJ.x.y' })).toEqual([{ path: '/run/t', content: 'eyJ.x.y\n', setting: 'files.token' }]);
  });

  it('writes a PostgreSQL login as a DSN, an escaped .pgpass line and a shell-safe env file', () => {
    const files = credentialFiles(grant({ dsnFile: '/run/dsn', pgpassFile: '/run/.pgpass', envFile: '/run/env' }), { token: 'eyJ.x.y', login });
    expect(files.map((f) => f.content)).toEqual([
      `${login.connectionString}\n`,
      "db.internal:5432:orders:mayfly_g_1:p\\:a\\\\ss'word\n",
      [
        "MAYFLY_ORDERS_DB_TOKEN='eyJ.x.y'",
        `MAYFLY_ORDERS_DB_DSN='postgres://mayfly_g_1:p%3Aa%5Css'\\''word@db.internal:5432/orders'`,
        "MAYFLY_ORDERS_DB_HOST='db.internal'",
        "MAYFLY_ORDERS_DB_PORT='5432'",
        "MAYFLY_ORDERS_DB_USER='mayfly_g_1'",
        "MAYFLY_ORDERS_DB_PASSWORD='p:a\\ss'\\''word'",
        "MAYFLY_ORDERS_DB_DATABASE='orders'",
      ].join('\n') + '\n',
    ]);
  });

  it('refuses to write a login file for a grant whose resource gives tokens, or a .pgpass for another system', () => {
    expect(() => credentialFiles(grant({ dsnFile: '/run/dsn' }), { token: 'eyJ.x.y' })).toThrow(CredentialShapeError);
    expect(() => credentialFiles(grant({ pgpassFile: '/run/p' }), { token: 't', login: { ...login, system: 'redis' } })).toThrow(/files.pgpass is for PostgreSQL/);
  });

  it('gives the command one variable per fact, prefixed by the grant name', () => {
    expect(Object.keys(credentialEnv(grant({}), { token: 't', login }))).toEqual(['MAYFLY_ORDERS_DB_TOKEN', 'MAYFLY_ORDERS_DB_DSN', 'MAYFLY_ORDERS_DB_HOST', 'MAYFLY_ORDERS_DB_PORT', 'MAYFLY_ORDERS_DB_USER', 'MAYFLY_ORDERS_DB_PASSWORD', 'MAYFLY_ORDERS_DB_DATABASE']);
  });
});
