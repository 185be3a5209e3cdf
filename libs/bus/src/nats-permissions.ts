import { controlStreamName, heartbeatSubject, resyncMarkerSubject } from './revocation-stream.js';

/** Who connects to NATS, by role. */
export interface NatsUsers {
  /** The revocation service: owns the streams, publishes revocations and markers. */
  readonly revocation: { readonly user: string; readonly password: string };
  /** Edge verifiers: follow the revocation stream, read the marker; nothing else. */
  readonly edge: { readonly user: string; readonly password: string };
  /** Issuance: announces requests waiting for approval and break-glass alerts; nothing else. */
  readonly issuance: { readonly user: string; readonly password: string };
}

/** Where a request waiting for approval is announced, for chat and paging integrations. */
export const APPROVALS_PENDING_SUBJECT = 'mayfly.approvals.pending';
/** Where a break-glass grant is announced the moment it is issued. */
export const BREAK_GLASS_ALERT_SUBJECT = 'mayfly.alerts.break-glass';

export interface Permissions {
  readonly publish: { readonly allow: readonly string[] };
  readonly subscribe: { readonly allow: readonly string[] };
}

/**
 * What each role may do on NATS. An edge may read the stream (create and follow its own
 * consumer, read stream info and the resync marker) and nothing more: it can neither publish a
 * revocation (or a forged one) nor purge, delete or change a stream. Only the revocation service
 * may publish on the revocation subjects and manage the streams.
 */
export function revocationPermissions(config: { stream: string; subjectPrefix: string }): { revocation: Permissions; edge: Permissions; issuance: Permissions } {
  const control = controlStreamName(config.stream);
  return {
    revocation: {
      publish: { allow: [`${config.subjectPrefix}.>`, resyncMarkerSubject(config.subjectPrefix), heartbeatSubject(config.subjectPrefix), '$JS.API.>'] },
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
          `$JS.API.CONSUMER.DELETE.${config.stream}.>`,
          `$JS.API.CONSUMER.MSG.NEXT.${config.stream}.>`,
          `$JS.ACK.${config.stream}.>`,
          `$JS.FC.${config.stream}.>`,
        ],
      },
      // Heartbeats: where the stream ends, so that an edge can tell it is current (fail closed when not).
      subscribe: { allow: ['_INBOX.>', heartbeatSubject(config.subjectPrefix)] },
    },
    // Announcements only: issuance can neither publish a revocation nor touch a stream.
    issuance: {
      publish: { allow: ['mayfly.approvals.>', 'mayfly.alerts.>'] },
      subscribe: { allow: ['_INBOX.>'] },
    },
  };
}

/**
 * A nats-server `authorization` block giving each role its user and permissions, for the
 * server Mayfly starts itself and as the model for compose and Helm.
 */
export function natsAuthorizationConfig(users: NatsUsers, config: { stream: string; subjectPrefix: string }): string {
  const permissions = revocationPermissions(config);
  const list = (values: readonly string[]) => `[${values.map((value) => JSON.stringify(value)).join(', ')}]`;
  const user = (credentials: { user: string; password: string }, p: Permissions) =>
    `    { user: ${JSON.stringify(credentials.user)}, password: ${JSON.stringify(credentials.password)}, permissions: { publish: { allow: ${list(p.publish.allow)} }, subscribe: { allow: ${list(p.subscribe.allow)} } } }`;
  return `authorization {\n  users: [\n${user(users.revocation, permissions.revocation)},\n${user(users.edge, permissions.edge)},\n${user(users.issuance, permissions.issuance)}\n  ]\n}\n`;
}
