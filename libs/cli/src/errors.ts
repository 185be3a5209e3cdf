import { isMayflyError } from '@mayfly/core';

/**
 * An error as one line that says what to do about it. The messages that reach operators most
 * often — the mesh is not running, a file or directory is missing, the serializer refusing a
 * value — get the next step appended instead of a raw errno or a gRPC detail.
 */
export function explain(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const errno = error as NodeJS.ErrnoException;
  if (errno.code === 'ENOENT' && errno.path) return `${errno.path} does not exist (${errno.syscall === 'scandir' ? 'a directory was expected' : 'check the path'})`;
  if (errno.code === 'EACCES' && errno.path) return `${errno.path}: permission denied (run as a user who may read it, or fix its mode)`;
  if (isUnreachable(error)) {
    return `${error.message}\n  Is the mesh running? Start one on this machine with \`npm start\` (or \`docker compose -f deploy/compose/compose.yaml up\`); ` +
      'the CLI finds each service at MAYFLY_<SERVICE>_ADDR (default 127.0.0.1 and the default ports).';
  }
  return error.message;
}

function isUnreachable(error: Error): boolean {
  if (isMayflyError(error, 'ERR_DEPENDENCY_UNAVAILABLE')) return true;
  return /ECONNREFUSED|No connection established|connect ENOENT/.test(error.message);
}
