import { DiscardPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureStream, isStreamNotFound } from './revocation-stream.js';

/**
 * Where the audit service keeps the signed head of the audit chain outside the database: a
 * JetStream stream that only the audit service may publish to, and whose messages cannot be
 * deleted or purged through the API (deny_delete, deny_purge). It keeps the newest head only.
 */
export interface AuditHeadStreamConfig {
  readonly stream: string;
  readonly subject: string;
}

export async function ensureAuditHeadStream(nc: NatsConnection, config: AuditHeadStreamConfig): Promise<void> {
  await ensureStream(await jetstreamManager(nc), config.stream, {
    subjects: [config.subject],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: 1,
    deny_delete: true,
    deny_purge: true,
    allow_direct: true,
  });
}

/** Stores one head (its wire form); resolves once JetStream has it. */
export async function publishAuditHead(nc: NatsConnection, config: AuditHeadStreamConfig, encoded: string, timeoutMs = 2_000): Promise<void> {
  await jetstream(nc, { timeout: timeoutMs }).publish(config.subject, encoded, { timeout: timeoutMs });
}

/**
 * The newest head's wire form; undefined when the stream holds none. Throws when the stream
 * does not exist (`AuditHeadMissing`) or NATS cannot be read.
 */
export async function readAuditHead(nc: NatsConnection, config: AuditHeadStreamConfig): Promise<string | undefined> {
  const jsm = await jetstreamManager(nc);
  try {
    const message = await jsm.streams.getMessage(config.stream, { last_by_subj: config.subject });
    return message ? new TextDecoder().decode(message.data) : undefined;
  } catch (error) {
    if (isStreamNotFound(error)) throw new AuditHeadMissing(`the stream ${config.stream} does not exist`);
    if (/no message found/i.test((error as Error).message)) return undefined;
    throw error;
  }
}

export class AuditHeadMissing extends Error {
  override readonly name = 'AuditHeadMissing';
}
