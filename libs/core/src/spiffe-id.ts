/**
 * SPIFFE IDs exactly as the SPIFFE ID specification (SPIFFE-ID.md, section 2) allows them — the
 * one pattern every Mayfly component checks against:
 * - scheme `spiffe://`, lower case;
 * - trust domain: 1–255 of a-z 0-9 . - _ (no upper case, no port, no user info, no percent-encoding);
 * - path: one or more segments, each `/` followed by 1+ of A-Z a-z 0-9 . - _; never an empty
 *   segment (`//`, trailing `/`), never `.` or `..`, no percent-encoding, query or fragment;
 * - at most 2048 bytes in all.
 * A workload's ID always has a path; `spiffe://<trust domain>` alone names the trust domain.
 */
export const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
const SPIFFE_ID = /^spiffe:\/\/([a-z0-9._-]{1,255})((?:\/[A-Za-z0-9._-]+)+)$/;
export const SPIFFE_ID_MAX_LENGTH = 2048;

/** Why `value` is not a workload's SPIFFE ID, or undefined when it is one. */
export function spiffeIdProblem(value: string): string | undefined {
  if (value.length > SPIFFE_ID_MAX_LENGTH) return `must be at most ${SPIFFE_ID_MAX_LENGTH} characters`;
  const match = SPIFFE_ID.exec(value);
  if (!match) {
    if (!value.startsWith('spiffe://')) return 'must start with spiffe:// (lower case)';
    return 'must be spiffe://<trust domain>/<path>: a trust domain of a-z 0-9 . - _, and path segments of A-Z a-z 0-9 . - _ (no empty segment, no trailing "/", no percent-encoding)';
  }
  const segments = match[2]!.split('/').slice(1);
  if (segments.some((segment) => segment === '.' || segment === '..')) return 'must not have "." or ".." path segments';
  return undefined;
}

/** A workload's SPIFFE ID, as the specification allows it (see spiffeIdProblem). */
export function isSpiffeId(value: string): boolean {
  return spiffeIdProblem(value) === undefined;
}
