import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { GRANT_ENDED_CHANNEL, endGrant, insertGrant, putResource } from '@mayfly/db';
import { scratchDatabase, scratchGrant, type ScratchDatabase } from '../support/scratch-database.js';

/**
 * The grant-ended notification against real PostgreSQL (migration 027, issue 24): a grant on a
 * registered resource (one that can carry a login) is announced when it ends; a grant on any
 * other resource ends silently — before 027 every ended grant cost a NOTIFY and, in issuance, a
 * registry read.
 */
let scratch: ScratchDatabase;
let listener: pg.Client;
const heard: string[] = [];

async function activeGrantOn(resource: string): Promise<string> {
  const grant = scratchGrant(resource);
  await insertGrant(scratch.db, grant);
  return grant.id;
}

beforeAll(async () => {
  scratch = await scratchDatabase('mayfly_ended_notify', ['pg:orders-db', 'svc:orders']);
  await putResource(scratch.db, { name: 'pg:orders-db', kind: 'postgresql', host: '127.0.0.1', port: 5432, database: 'orders', adminCredentialFile: '/dev/null', actions: { read: ['reader'] }, connectionLimit: 2, updatedBy: 'test' });
  listener = await scratch.connect();
  listener.on('notification', (message) => heard.push(message.payload ?? ''));
  await listener.query(`LISTEN ${GRANT_ENDED_CHANNEL}`);
}, 60_000);

afterAll(async () => {
  await listener?.end();
  await scratch?.drop();
});

describe('grant-ended notification', () => {
  it('announces the end of a grant on a resource with logins, and not of a plain token grant', async () => {
    const withLogin = await activeGrantOn('pg:orders-db');
    const tokenOnly = await activeGrantOn('svc:orders');
    await endGrant(scratch.db, tokenOnly, 'revoked', 'test', new Date());
    await endGrant(scratch.db, withLogin, 'revoked', 'test', new Date());
    // Notifications arrive in commit order: once the second is heard, the first would have been.
    for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard).toEqual([`${withLogin} pg:orders-db`]);
  });
});
