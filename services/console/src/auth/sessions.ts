import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { SignInAttempt } from './oidc-client.js';

/** Who is signed in, as their ID token's claims say (for display: issuance checks the token itself on every call). */
export interface Person {
  readonly email: string;
  readonly name: string;
  readonly groups: readonly string[];
}

export interface Session {
  readonly id: string;
  readonly person: Person;
  /** The person's ID token: sent to issuance with every call, never to the browser. */
  readonly idToken: string;
  /** The synchronizer token every form of this session carries. */
  readonly csrfToken: string;
  readonly expiresAt: number;
}

const MAX_SESSIONS = 10_000;
const MAX_ATTEMPTS = 10_000;
const ATTEMPT_MS = 10 * 60_000;

/**
 * Signed-in sessions and sign-ins under way, in this process's memory only: the browser holds a
 * random 256-bit id in an HttpOnly cookie, never a token; a restart signs everyone out (they sign
 * in again, usually without typing anything, as the provider still knows them). Both maps are
 * bounded: the oldest entries go first.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly attempts = new Map<string, { attempt: SignInAttempt; returnTo: string; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Remembers a sign-in under way; returns the key the browser keeps (a cookie) until it comes back. */
  beginSignIn(attempt: SignInAttempt, returnTo: string): string {
    const key = randomId();
    this.attempts.set(key, { attempt, returnTo, at: this.now() });
    trim(this.attempts, MAX_ATTEMPTS);
    return key;
  }

  /** The attempt for this browser's key, once: a second use, or one older than ten minutes, finds nothing. */
  takeSignIn(key: string | undefined): { attempt: SignInAttempt; returnTo: string } | undefined {
    if (!key) return undefined;
    const entry = this.attempts.get(key);
    this.attempts.delete(key);
    if (!entry || this.now() - entry.at > ATTEMPT_MS) return undefined;
    return { attempt: entry.attempt, returnTo: entry.returnTo };
  }

  open(person: Person, idToken: string, expiresAt: number): Session {
    const session: Session = { id: randomId(), person, idToken, csrfToken: randomId(), expiresAt };
    this.sessions.set(session.id, session);
    trim(this.sessions, MAX_SESSIONS);
    return session;
  }

  /** The live session with this id; an expired one is forgotten. */
  find(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  close(id: string): void {
    this.sessions.delete(id);
  }
}

/** Whether a form's token is its session's (constant time). */
export function csrfTokenMatches(session: Session, given: string | undefined): boolean {
  if (!given) return false;
  const expected = Buffer.from(session.csrfToken);
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The person an ID token's claims name, for display. */
export function personFromClaims(claims: Record<string, unknown>): Person {
  const email = typeof claims['email'] === 'string' ? claims['email'] : String(claims['sub'] ?? '');
  const groups = Array.isArray(claims['groups']) ? claims['groups'].filter((group): group is string => typeof group === 'string') : [];
  return { email, name: typeof claims['name'] === 'string' ? claims['name'] : email, groups };
}

function randomId(): string {
  return randomBytes(32).toString('base64url');
}

function trim<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value as K);
}
