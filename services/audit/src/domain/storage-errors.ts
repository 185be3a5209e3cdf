import { MayflyError } from '@mayfly/core';

/**
 * What a failed append means for the sender. A batch PostgreSQL cannot store as it is (a data
 * exception: a NUL byte, an unrepresentable value) is the batch's fault: INVALID_ARGUMENT, so
 * the sender splits it and sets the culprit aside. A database that is not there is nobody's
 * fault: UNAVAILABLE, so the sender keeps the events and retries. Anything else stays internal.
 */
export function storageFailure(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return error;
  if (code.startsWith('22')) {
    return new MayflyError('ERR_INVALID_ARGUMENT', `events: the audit log cannot store this batch as it is (${(error as Error).message})`, { field: 'events', cause: error });
  }
  if (code.startsWith('08') || code.startsWith('57P') || code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'ECONNRESET') {
    return new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', 'the audit log database is unavailable; retry shortly', { cause: error });
  }
  return error;
}
