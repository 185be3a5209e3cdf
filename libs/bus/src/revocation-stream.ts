import { DiscardPolicy, RetentionPolicy, StorageType, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

export interface RevocationStreamConfig {
  /** JetStream stream name, e.g. MAYFLY_REVOCATIONS. */
  readonly stream: string;
  /** Subjects are <prefix>.grant.<grant id>. */
  readonly subjectPrefix: string;
  /**
   * How long the stream keeps an event. It must be at least the longest token lifetime: an edge
   * that reconnects replays the stream, and must hear of every revoked token that could still be
   * presented. Keeping events longer buys nothing, so revocation state stays bounded.
   */
  readonly retentionSeconds: number;
}

const NANOS_PER_SECOND = 1_000_000_000;

export function grantRevocationSubject(prefix: string, grantId: string): string {
  return `${prefix}.grant.${grantId}`;
}

/** Creates the stream, or brings its settings up to date if it exists. */
export async function ensureRevocationStream(nc: NatsConnection, config: RevocationStreamConfig): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const settings = {
    subjects: [`${config.subjectPrefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: config.retentionSeconds * NANOS_PER_SECOND,
    // Publishes carry the revocation id as Nats-Msg-Id, so a retried publish is stored once.
    duplicate_window: Math.min(120, config.retentionSeconds) * NANOS_PER_SECOND,
  };
  try {
    await jsm.streams.info(config.stream);
    await jsm.streams.update(config.stream, settings);
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
    await jsm.streams.add({ name: config.stream, ...settings });
  }
}

export async function deleteRevocationStream(nc: NatsConnection, stream: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(stream).catch(() => undefined);
}

/** True for JetStream's answer about a stream that does not exist. */
export function isStreamNotFound(error: unknown): boolean {
  return error instanceof Error && /stream not found/i.test(error.message);
}
