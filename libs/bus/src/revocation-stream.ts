import { DiscardPolicy, RetentionPolicy, StorageType, jetstreamManager, type StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { RevocationScope, type RevocationEvent } from '@mayfly/proto';

export interface RevocationStreamConfig {
  /** JetStream stream name, e.g. MAYFLY_REVOCATIONS. */
  readonly stream: string;
  /** Subjects are <prefix>.grant.<grant id>, <prefix>.workload.<id>, <prefix>.key.<id>. */
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

/**
 * Where an event goes: <prefix>.grant.<grant id> for a grant, <prefix>.workload.<event id> and
 * <prefix>.key.<event id> for watermarks (SPIFFE IDs and kids are not subject tokens). Edges
 * read <prefix>.> and tell the scope from the event itself.
 */
export function revocationSubject(prefix: string, event: RevocationEvent): string {
  switch (event.scope) {
    case RevocationScope.REVOCATION_SCOPE_WORKLOAD:
      return `${prefix}.workload.${event.id}`;
    case RevocationScope.REVOCATION_SCOPE_KEY:
      return `${prefix}.key.${event.id}`;
    default:
      return grantRevocationSubject(prefix, event.grantId);
  }
}

/**
 * Where the revocation service says, after each check, "the stream holds every live revocation".
 * It lives in a small control stream of its own (latest message only), so that the revocation
 * stream itself has no deletions but at its front: a gap there always means lost events.
 */
export function resyncMarkerSubject(prefix: string): string {
  return `${prefix}-control.resynced`;
}

/**
 * Heartbeats (core NATS, not stored): the revocation service says every second where the stream
 * ends; edges that cannot hear it for their staleness bound refuse tokens (fail closed).
 */
export function heartbeatSubject(prefix: string): string {
  return `${prefix}-control.heartbeat`;
}

/** The control stream's name, beside the revocation stream. */
export function controlStreamName(stream: string): string {
  return `${stream}_CONTROL`;
}

/** The marker's content: the revocation stream as a check found it whole. */
export interface ResyncMarker {
  readonly created: string;
  readonly firstSequence: number;
  /** Its last sequence once every live revocation was on it: an edge is whole once it has read this far. */
  readonly lastSequence: number;
}

/** What the stream looks like now: enough to tell a recreated or purged stream. */
export interface StreamSnapshot {
  /** When this incarnation of the stream was created (changes when it is deleted and made again). */
  readonly created: string;
  readonly firstSequence: number;
  readonly lastSequence: number;
}

/**
 * Creates the stream, or brings its settings up to date if it exists. Returns what it looks like
 * and whether it had to be created (then every live revocation must be published again).
 */
export async function ensureRevocationStream(nc: NatsConnection, config: RevocationStreamConfig): Promise<StreamSnapshot & { createdNow: boolean }> {
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
  await ensureStream(jsm, controlStreamName(config.stream), {
    subjects: [resyncMarkerSubject(config.subjectPrefix)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: 1,
    allow_direct: true,
  });
  return ensureStream(jsm, config.stream, settings);
}

export async function ensureStream(jsm: StreamManager, name: string, settings: Partial<StreamConfig>): Promise<StreamSnapshot & { createdNow: boolean }> {
  try {
    await jsm.streams.info(name);
    const info = await jsm.streams.update(name, settings);
    return { ...snapshotOf(info), createdNow: false };
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
    const info = await jsm.streams.add({ name, ...settings });
    return { ...snapshotOf(info), createdNow: true };
  }
}

type StreamManager = Awaited<ReturnType<typeof jetstreamManager>>;

/** The latest resync marker and its signature, or undefined if there is none (yet) or it is malformed. */
export async function readResyncMarker(jsm: StreamManager, config: { stream: string; subjectPrefix: string }): Promise<(ResyncMarker & { signature: string | undefined }) | undefined> {
  try {
    const message = await jsm.streams.getMessage(controlStreamName(config.stream), { last_by_subj: resyncMarkerSubject(config.subjectPrefix) });
    if (!message) return undefined;
    const marker = JSON.parse(new TextDecoder().decode(message.data)) as Partial<ResyncMarker> & { signature?: unknown };
    if (typeof marker.created !== 'string' || typeof marker.firstSequence !== 'number' || typeof marker.lastSequence !== 'number') return undefined;
    return { created: marker.created, firstSequence: marker.firstSequence, lastSequence: marker.lastSequence, signature: typeof marker.signature === 'string' ? marker.signature : undefined };
  } catch {
    return undefined;
  }
}

function snapshotOf(info: { created: string; state: { first_seq: number; last_seq: number } }): StreamSnapshot {
  return { created: info.created, firstSequence: info.state.first_seq, lastSequence: info.state.last_seq };
}

/** The stream as it is now, or undefined if it does not exist. */
export async function readStreamSnapshot(nc: NatsConnection, stream: string): Promise<StreamSnapshot | undefined> {
  const jsm = await jetstreamManager(nc);
  try {
    return snapshotOf(await jsm.streams.info(stream));
  } catch (error) {
    if (isStreamNotFound(error)) return undefined;
    throw error;
  }
}

export async function deleteRevocationStream(nc: NatsConnection, stream: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(stream).catch(() => undefined);
  await jsm.streams.delete(controlStreamName(stream)).catch(() => undefined);
}

/** True for JetStream's answer about a stream that does not exist. */
export function isStreamNotFound(error: unknown): boolean {
  return error instanceof Error && /stream not found/i.test(error.message);
}
