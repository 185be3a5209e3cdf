import { FAULT_INJECTION } from '@mayfly/config';
import type { EnvReader } from '@mayfly/config';
import { MayflyError, type Logger } from '@mayfly/core';

/**
 * MAYFLY_FAULT_INJECTION=crash-after-revocation-commit kills the process (SIGKILL) right after a
 * revocation commits, before it is published: for tests that show nothing is lost. Never set in
 * production; the service says so loudly when it is.
 */
export function crashPointFromEnv(env: EnvReader, log: Logger): (() => void) | undefined {
  const fault = env.read(FAULT_INJECTION);
  if (fault === undefined) return undefined;
  if (fault !== 'crash-after-revocation-commit') throw new MayflyError('ERR_CONFIG', `MAYFLY_FAULT_INJECTION=${fault} is not a known fault (crash-after-revocation-commit)`);
  log.warn({ fault }, 'FAULT INJECTION ON: this process kills itself after each revocation commit (tests only)');
  return () => process.kill(process.pid, 'SIGKILL');
}
