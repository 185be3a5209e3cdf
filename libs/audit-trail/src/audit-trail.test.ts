import { describe, expect, it } from 'vitest';
import type { Logger } from '@mayfly/core';
import type { Database, Kysely } from '@mayfly/db';
import { AuditTrail } from './audit-trail.js';

describe('AuditTrail.deliver', () => {
  it('makes no call for no events: an empty Record is refused for its content, and refusals are split in halves', async () => {
    process.env['MAYFLY_INSECURE_DEV'] ??= 'true';
    const warnings: unknown[] = [];
    const log = { warn: (...args: unknown[]) => warnings.push(args), info: () => undefined, error: () => undefined, debug: () => undefined } as unknown as Logger;
    // Nothing listens on port 1: a call would fail, and the trail would warn that audit is unreachable.
    const trail = new AuditTrail({ db: {} as Kysely<Database>, owner: 'issuance', auditAddress: '127.0.0.1:1', log });
    try {
      await expect(trail.deliver([])).resolves.toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(warnings).toEqual([]);
    } finally {
      await trail.close(0).catch(() => undefined);
    }
  });
});
