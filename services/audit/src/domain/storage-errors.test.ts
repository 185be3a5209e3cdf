import { describe, expect, it } from 'vitest';
import { isMayflyError } from '@mayfly/core';
import { storageFailure } from './storage-errors.js';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('storageFailure', () => {
  it('blames the batch for data exceptions, and nobody for a missing database', () => {
    expect(isMayflyError(storageFailure(pgError('22P05')), 'ERR_INVALID_ARGUMENT')).toBe(true);
    expect(isMayflyError(storageFailure(pgError('08006')), 'ERR_DEPENDENCY_UNAVAILABLE')).toBe(true);
    expect(isMayflyError(storageFailure(pgError('ECONNREFUSED')), 'ERR_DEPENDENCY_UNAVAILABLE')).toBe(true);
    const other = pgError('42P01');
    expect(storageFailure(other)).toBe(other);
  });
});
