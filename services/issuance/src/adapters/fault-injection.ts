import { FAULT_INJECTION, type EnvReader } from '@mayfly/config';
import { MayflyError, type Logger } from '@mayfly/core';

/**
 * MAYFLY_FAULT_INJECTION=crash-after-login-created kills the process (SIGKILL) right after a
 * grant's dynamic login is made, before the grant commits: for the test that shows the
 * reconciler leaves no orphaned login behind. Never set in production; said loudly when it is.
 */
export function loginCrashPoint(env: EnvReader, log: Logger): (() => void) | undefined {
  const fault = env.read(FAULT_INJECTION);
  if (fault === undefined) return undefined;
  if (fault !== 'crash-after-login-created') throw new MayflyError('ERR_CONFIG', `MAYFLY_FAULT_INJECTION=${fault} is not a fault issuance knows (crash-after-login-created)`);
  log.warn({ fault }, 'FAULT INJECTION ON: this process kills itself after making each dynamic login (tests only)');
  return () => process.kill(process.pid, 'SIGKILL');
}
