import type { AuditHeadStreamConfig } from './audit-head-stream.js';
import { CREDENTIAL_REAPER_CONSUMER } from './revocation-durable.js';
import { controlStreamName, heartbeatSubject, resyncMarkerSubject } from './revocation-stream.js';

/** Who connects to NATS, by role. */
export interface NatsUsers {
  /** The revocation service: owns the streams, publishes revocations and markers. */
  readonly revocation: { readonly user: string; readonly password: string };
  /** Edge verifiers: follow the revocation stream, read the marker; nothing else. */
  readonly edge: { readonly user: string; readonly password: string };
  /**
   * Issuance: announces requests waiting for approval and break-glass alerts, and reads the
   * revocation stream through its one durable consumer (the credential reaper); nothing else.
   */
  readonly issuance: { readonly user: string; readonly password: string };
  /** The audit service: publishes the audit chain's signed head to its stream; nothing else. */
  readonly audit: { readonly user: string; readonly password: string };
  /** Auditors (`mayfly audit verify`): read the audit chain's head; nothing else. */
  readonly auditor: { readonly user: string; readonly password: string };
}

/** The streams and subjects the permissions are about. */
export interface NatsLayout {
  readonly stream: string;
  readonly subjectPrefix: string;
  /** The audit chain's external head (@mayfly/config AUDIT_HEAD_STREAM_DEFAULTS in a deployment). */
  readonly auditHead: AuditHeadStreamConfig;
}

/** Where a request waiting for approval is announced, for chat and paging integrations. */
export const APPROVALS_PENDING_SUBJECT = 'mayfly.approvals.pending';
/** Where a break-glass grant is announced the moment it is issued. */
export const BREAK_GLASS_ALERT_SUBJECT = 'mayfly.alerts.break-glass';

export interface Permissions {
  readonly publish: { readonly allow: readonly string[]; readonly deny?: readonly string[] };
  readonly subscribe: { readonly allow: readonly string[] };
}

/**
 * What each role may do on NATS. An edge may read the stream (create and follow its own
 * consumer, read stream info and the resync marker) and nothing more: it can neither publish a
 * revocation (or a forged one) nor purge, delete or change a stream, nor delete consumers — not
 * even others' (its own ordered consumers are ephemeral: the server removes them once idle). Only the revocation service
 * may publish on the revocation subjects and manage the streams.
 */
export function revocationPermissions(config: NatsLayout): Record<keyof NatsUsers, Permissions> {
  const control = controlStreamName(config.stream);
  const head = config.auditHead;
  // Reading the audit head: what both the audit service (to resume) and auditors need.
  const readHead = ['$JS.API.INFO', `$JS.API.STREAM.INFO.${head.stream}`, `$JS.API.STREAM.MSG.GET.${head.stream}`, `$JS.API.DIRECT.GET.${head.stream}`, `$JS.API.DIRECT.GET.${head.stream}.>`];
  return {
    revocation: {
      // It manages its streams through the JetStream API, but never the audit head's stream:
      // the audit trail's external record must be out of reach of every other service.
      publish: {
        allow: [`${config.subjectPrefix}.>`, resyncMarkerSubject(config.subjectPrefix), heartbeatSubject(config.subjectPrefix), '$JS.API.>'],
        deny: [head.subject, `$JS.API.STREAM.*.${head.stream}`, `$JS.API.STREAM.MSG.*.${head.stream}`, `$JS.API.CONSUMER.*.${head.stream}`, `$JS.API.CONSUMER.*.${head.stream}.>`],
      },
      subscribe: { allow: ['_INBOX.>'] },
    },
    edge: {
      publish: {
        allow: [
          '$JS.API.INFO',
          `$JS.API.STREAM.INFO.${config.stream}`,
          `$JS.API.STREAM.INFO.${control}`,
          `$JS.API.STREAM.MSG.GET.${control}`,
          `$JS.API.DIRECT.GET.${control}`,
          `$JS.API.DIRECT.GET.${control}.>`,
          `$JS.API.CONSUMER.CREATE.${config.stream}`,
          `$JS.API.CONSUMER.CREATE.${config.stream}.>`,
          `$JS.API.CONSUMER.INFO.${config.stream}.>`,
          `$JS.API.CONSUMER.MSG.NEXT.${config.stream}.>`,
          `$JS.ACK.${config.stream}.>`,
          `$JS.FC.${config.stream}.>`,
        ],
      },
      // Heartbeats: where the stream ends, so that an edge can tell it is current (fail closed when not).
      subscribe: { allow: ['_INBOX.>', heartbeatSubject(config.subjectPrefix)] },
    },
    // Announcements, and reading revocations through its own durable consumer (the credential
    // reaper): issuance can neither publish a revocation nor touch a stream or another consumer.
    issuance: {
      publish: {
        allow: [
          'mayfly.approvals.>',
          'mayfly.alerts.>',
          '$JS.API.INFO',
          `$JS.API.STREAM.INFO.${config.stream}`,
          `$JS.API.CONSUMER.INFO.${config.stream}.${CREDENTIAL_REAPER_CONSUMER}`,
          `$JS.API.CONSUMER.CREATE.${config.stream}.${CREDENTIAL_REAPER_CONSUMER}`,
          `$JS.API.CONSUMER.CREATE.${config.stream}.${CREDENTIAL_REAPER_CONSUMER}.>`,
          `$JS.API.CONSUMER.DURABLE.CREATE.${config.stream}.${CREDENTIAL_REAPER_CONSUMER}`,
          `$JS.API.CONSUMER.MSG.NEXT.${config.stream}.${CREDENTIAL_REAPER_CONSUMER}`,
          `$JS.ACK.${config.stream}.${CREDENTIAL_REAPER_CONSUMER}.>`,
        ],
      },
      subscribe: { allow: ['_INBOX.>'] },
    },
    // The audit head: create and publish to its stream, never delete or purge it.
    audit: {
      publish: { allow: [head.subject, ...readHead, `$JS.API.STREAM.CREATE.${head.stream}`, `$JS.API.STREAM.UPDATE.${head.stream}`] },
      subscribe: { allow: ['_INBOX.>'] },
    },
    auditor: {
      publish: { allow: readHead },
      subscribe: { allow: ['_INBOX.>'] },
    },
  };
}

/**
 * A nats-server `authorization` block giving each role its user and permissions, for the
 * server Mayfly starts itself and as the model for compose and Helm.
 */
export function natsAuthorizationConfig(users: NatsUsers, config: NatsLayout): string {
  const permissions = revocationPermissions(config);
  const list = (values: readonly string[]) => `[${values.map((value) => JSON.stringify(value)).join(', ')}]`;
  const user = (credentials: { user: string; password: string }, p: Permissions) =>
    `    { user: ${JSON.stringify(credentials.user)}, password: ${JSON.stringify(credentials.password)}, permissions: { publish: { allow: ${list(p.publish.allow)}${p.publish.deny ? `, deny: ${list(p.publish.deny)}` : ''} }, subscribe: { allow: ${list(p.subscribe.allow)} } } }`;
  const roles = ['revocation', 'edge', 'issuance', 'audit', 'auditor'] as const;
  return `authorization {\n  users: [\n${roles.map((role) => user(users[role], permissions[role])).join(',\n')}\n  ]\n}\n`;
}
