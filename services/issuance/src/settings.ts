import {
  BREAK_GLASS_MAX_SECONDS,
  DEFAULT_TTL_SECONDS,
  EnvReader,
  DECIDE_CONCURRENCY,
  DECIDE_MAX_BATCH,
  DECIDE_OVER_STREAM,
  GRANT_COMMIT_CONCURRENCY,
  GRANT_COMMIT_MAX_BATCH,
  GRANT_RATE_BURST,
  GRANT_RATE_PER_SECOND,
  GRANT_READER_GROUPS,
  LOGIN_RECONCILE_MS,
  RESOURCE_CACHE_MS,
  ISSUANCE_HTTP_PORT,
  MAX_DELEGATION_DEPTH,
  MAX_GRANT_SECONDS,
  MAX_TTL_SECONDS,
  REVOKED_KEYS_POLL_MS,
  SESSION_CHECK_CACHE_MS,
  SIGNING_KEYRING_DIR,
  SIGNING_KEYRING_RELOAD_MS,
  SIGNING_KEY_RETIRE_GRACE_SECONDS,
  UNAUTHENTICATED_BURST_PER_PEER,
  UNAUTHENTICATED_RATE_PER_PEER,
  WORKLOAD_CA_FILE,
  CONSOLE_URL,
  WEBHOOK_CA_FILE,
  WEBHOOK_FORMAT,
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_SECRET,
  WEBHOOK_URL,
  commonSettings,
  revocationStreamSettings,
  tokenIssuerSettings,
  type CommonSettings,
  type RevocationStreamSettings,
} from '@mayfly/config';
import { MayflyError, type Logger } from '@mayfly/core';
import { readFileSync } from 'node:fs';
import type { WebhookOptions } from './adapters/webhook-announcer.js';
import { loginCrashPoint } from './adapters/fault-injection.js';

/** Everything issuance reads from its environment, read once at start (libs/config registry). */
export interface IssuanceSettings {
  readonly common: CommonSettings;
  readonly issuer: string;
  readonly httpPort: number;
  readonly ttl: { readonly defaultTtlSeconds: number; readonly maxRequestTtlSeconds: number; readonly maxGrantSeconds: number };
  readonly breakGlassMaxSeconds: number;
  readonly maxDelegationDepth: number;
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
  /** Group commit of grants (issue 24): most per transaction, transactions at once. */
  readonly grantCommit: { readonly maxBatch: number; readonly maxInFlight: number };
  /** Batched asks to decision (issue 24): most per ask, asks at once, over DecideStream or by calls. */
  readonly decisionBatching: { readonly maxBatch: number; readonly maxInFlight: number; readonly overStream: boolean };
  readonly unauthenticatedRateLimit: { readonly perSecond: number; readonly burst: number };
  readonly signingKeys: { readonly dir: string | undefined; readonly graceSeconds: number; readonly reloadIntervalMs: number; readonly revokedPollMs: number };
  readonly sessionCheckCacheMs: number;
  readonly workloadCaFile: string | undefined;
  readonly readerGroups: readonly string[];
  /** Dynamic logins (issue 22): how often orphans are looked for, how long a resource entry is cached. */
  readonly logins: { readonly reconcileMs: number; readonly resourceCacheMs: number };
  /** The revocation stream the credential reaper's durable consumer follows. */
  readonly revocationStream: RevocationStreamSettings;
  /** Where notifications link to (MAYFLY_CONSOLE_URL), and the webhook they are also posted to. */
  readonly notifications: { readonly consoleUrl: string | undefined; readonly webhook: WebhookOptions | undefined };
  /** Tests only (MAYFLY_FAULT_INJECTION): die between making a login and committing its grant. */
  readonly crashAfterLoginCreated: (() => void) | undefined;
}

export function issuanceSettings(env: EnvReader, log: Logger): IssuanceSettings {
  return {
    common: commonSettings('issuance', env),
    issuer: tokenIssuerSettings(env).issuer,
    httpPort: env.read(ISSUANCE_HTTP_PORT),
    ttl: { defaultTtlSeconds: env.read(DEFAULT_TTL_SECONDS), maxRequestTtlSeconds: env.read(MAX_TTL_SECONDS), maxGrantSeconds: env.read(MAX_GRANT_SECONDS) },
    breakGlassMaxSeconds: env.read(BREAK_GLASS_MAX_SECONDS),
    // How many times access may be passed on: agent → sub-agent → tool is 2.
    maxDelegationDepth: env.read(MAX_DELEGATION_DEPTH),
    rateLimit: { perSecond: env.read(GRANT_RATE_PER_SECOND), burst: env.read(GRANT_RATE_BURST) },
    grantCommit: { maxBatch: env.read(GRANT_COMMIT_MAX_BATCH), maxInFlight: env.read(GRANT_COMMIT_CONCURRENCY) },
    decisionBatching: { maxBatch: env.read(DECIDE_MAX_BATCH), maxInFlight: env.read(DECIDE_CONCURRENCY), overStream: env.read(DECIDE_OVER_STREAM) },
    unauthenticatedRateLimit: { perSecond: env.read(UNAUTHENTICATED_RATE_PER_PEER), burst: env.read(UNAUTHENTICATED_BURST_PER_PEER) },
    signingKeys: {
      dir: env.read(SIGNING_KEYRING_DIR),
      graceSeconds: env.read(SIGNING_KEY_RETIRE_GRACE_SECONDS),
      reloadIntervalMs: env.read(SIGNING_KEYRING_RELOAD_MS),
      revokedPollMs: env.read(REVOKED_KEYS_POLL_MS),
    },
    sessionCheckCacheMs: env.read(SESSION_CHECK_CACHE_MS),
    workloadCaFile: env.read(WORKLOAD_CA_FILE),
    readerGroups: env.read(GRANT_READER_GROUPS),
    logins: { reconcileMs: env.read(LOGIN_RECONCILE_MS), resourceCacheMs: env.read(RESOURCE_CACHE_MS) },
    revocationStream: revocationStreamSettings(env),
    crashAfterLoginCreated: loginCrashPoint(env, log),
    notifications: { consoleUrl: env.read(CONSOLE_URL), webhook: webhookSettings(env) },
  };
}

/** MAYFLY_WEBHOOK_*: undefined without a URL; a URL without https or without a strong secret stops issuance at start. */
function webhookSettings(env: EnvReader): WebhookOptions | undefined {
  const url = env.read(WEBHOOK_URL);
  if (!url) return undefined;
  if (!url.startsWith('https://')) throw new MayflyError('ERR_CONFIG', `MAYFLY_WEBHOOK_URL must be https: announcements name workloads and resources (it is ${url})`);
  const given = env.read(WEBHOOK_SECRET);
  const secret = given?.startsWith('/') ? readFileSync(given, 'utf8').trim() : given;
  if (!secret || secret.length < 32) throw new MayflyError('ERR_CONFIG', 'MAYFLY_WEBHOOK_SECRET must be set, at least 32 characters (or a file holding it), when MAYFLY_WEBHOOK_URL is: receivers check the signature with it');
  const format = env.read(WEBHOOK_FORMAT);
  if (format !== 'json' && format !== 'slack') throw new MayflyError('ERR_CONFIG', `MAYFLY_WEBHOOK_FORMAT must be json or slack, not ${format}`);
  return { url, secret, format, maxAttempts: env.read(WEBHOOK_MAX_ATTEMPTS), caFile: env.read(WEBHOOK_CA_FILE) };
}
