import { join } from 'node:path';
import { DevIssuer } from './dev-issuer.js';

/** The development identity provider for people (approvers, reviewers): not for production. */
export const DEV_PEOPLE = {
  issuer: 'https://people.mayfly.local',
  audience: 'mayfly-approvals',
} as const;

/**
 * The demo people of the development identity provider (`npm start` signs them in to the
 * console; `mayfly people token` mints their tokens for the CLI). Their groups fit the shipped
 * policies: sre and data-owners approve production writes, sre and security read every grant,
 * orders@example.com owns the demo's orders workloads, eve is in no approver group.
 */
export const DEV_PEOPLE_DIRECTORY: Readonly<Record<string, { readonly name: string; readonly groups: readonly string[] }>> = {
  'alice@example.com': { name: 'Alice (on call)', groups: ['sre'] },
  'bob@example.com': { name: 'Bob (data owner)', groups: ['data-owners'] },
  'carol@example.com': { name: 'Carol (security)', groups: ['sre', 'security'] },
  'orders@example.com': { name: 'Olga (orders team)', groups: ['sre', 'orders'] },
  'eve@example.com': { name: 'Eve (engineer)', groups: ['eng'] },
};

/** The people issuer, its key kept in the state directory so that tokens outlive a restart. */
export function devPeopleIssuer(stateDir?: string): Promise<DevIssuer> {
  return DevIssuer.create(DEV_PEOPLE.issuer, stateDir ? join(stateDir, 'dev-people-issuer.jwk') : undefined);
}

/** Issuance's settings to trust that identity provider for approvals (its keys inline). */
export function approverEnv(people: DevIssuer): Record<string, string> {
  return { MAYFLY_APPROVER_ISSUER: people.issuer, MAYFLY_APPROVER_AUDIENCE: DEV_PEOPLE.audience, MAYFLY_APPROVER_JWKS: JSON.stringify(people.jwks) };
}

/** An OIDC ID token for a person, as their identity provider would issue it. */
export function personToken(people: DevIssuer, email: string, groups: readonly string[], ttlSeconds = 600): Promise<string> {
  return people.mint(email, { audience: DEV_PEOPLE.audience, ttlSeconds, claims: { email, email_verified: true, groups: [...groups] } });
}
