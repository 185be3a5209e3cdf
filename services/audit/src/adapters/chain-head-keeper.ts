import { decodeChainHead, encodeChainHead } from '@mayfly/audit-trail';
import { AuditHeadMissing, ensureAuditHeadStream, publishAuditHead, readAuditHead, type NatsConnection } from '@mayfly/bus';
import type { Logger } from '@mayfly/core';
import { insertAuditCheckpoint, latestAuditCheckpoint, readAuditChainHashAt, readAuditChainHead, type Database, type Kysely } from '@mayfly/db';
import { Periodic } from '@mayfly/telemetry';
import { CheckpointSigner, type CheckpointKey } from '../domain/checkpoint-signer.js';
import { Coalescer, HeadPublisher, type HeadOutcome } from '../domain/head-publisher.js';

/**
 * Keeps the audit chain's head signed and published: a checkpoint over the database's chain at
 * every interval (the database hash-chains; this signs its head), and the signed head on NATS,
 * outside the database, after appends (coalesced) and at every interval. NATS may come later:
 * recording never waits for it (the head goes stale instead, which `mayfly audit verify` reports).
 */
export function keepChainHead(options: {
  db: Kysely<Database>;
  nats: NatsConnection;
  headStream: { stream: string; subject: string };
  key: CheckpointKey;
  coalesceMs: number;
  checkpointMs: number;
  log: Logger;
}): { appended: () => void; stop: () => Promise<void> } {
  const { db, nats, headStream, log } = options;
  const signer = new CheckpointSigner(
    {
      readHead: () => readAuditChainHead(db),
      lastCheckpointPosition: async () => (await latestAuditCheckpoint(db))?.position,
      insert: (checkpoint) => insertAuditCheckpoint(db, checkpoint),
    },
    options.key,
  );
  let streamReady = false;
  const heads = new HeadPublisher(
    {
      readHead: () => readAuditChainHead(db),
      chainHashAt: (position) => readAuditChainHashAt(db, position),
      newestCheckpointPosition: async () => (await latestAuditCheckpoint(db))?.position,
      readPublished: async () => {
        // No stream yet: nothing was published. Any other failure is thrown (and retried).
        const text = await readAuditHead(nats, headStream).catch((error: unknown) => {
          if (error instanceof AuditHeadMissing) return undefined;
          throw error;
        });
        return text === undefined ? undefined : decodeChainHead(text);
      },
      publish: async (head) => {
        if (!streamReady) {
          await ensureAuditHeadStream(nats, headStream);
          streamReady = true;
        }
        await publishAuditHead(nats, headStream, encodeChainHead(head));
      },
    },
    options.key,
  );
  // Said once per change of outcome, not at every publish.
  let lastOutcome: HeadOutcome | 'failed' | undefined;
  const publishHead = async (): Promise<void> => {
    const outcome = await heads.publish(new Date()).catch((error: unknown) => {
      log.warn({ err: (error as Error).message }, 'publishing the audit head failed; will retry');
      return 'failed' as const;
    });
    if (outcome === lastOutcome) return;
    if (outcome === 'refused: the log is behind a head already published') {
      log.error({ stream: headStream.stream, ...heads.lastRefusal }, 'AUDIT LOG TRUNCATED OR REWRITTEN: the database chain is behind the head this service already signed; refusing to sign over it (run mayfly audit verify)');
    } else if (outcome === 'published') {
      log.info({ stream: headStream.stream }, 'publishing the signed audit head outside the database');
    }
    lastOutcome = outcome;
  };
  const afterAppend = new Coalescer(publishHead, options.coalesceMs);
  // A checkpoint over the database's chain, unless that chain no longer extends the head already
  // published (truncated: nothing is signed over it); then the head, fresh even when idle.
  const checkpointAndHead = async (): Promise<void> => {
    const intact = await heads.extendsPublished().catch(() => true); // NATS away: the database's checkpoints go on
    if (intact) await signer.checkpoint(new Date()).catch((error: unknown) => log.warn({ err: (error as Error).message }, 'signing an audit checkpoint failed; will retry'));
    await publishHead();
  };
  const checkpoints = Periodic.start({ name: 'audit.checkpoint', intervalMs: options.checkpointMs, jitter: 0, log }, checkpointAndHead);
  return {
    appended: () => afterAppend.request(),
    // A last checkpoint and head cover everything appended before the shutdown.
    stop: async () => {
      await checkpoints.stop();
      await afterAppend.stop();
      await checkpointAndHead();
    },
  };
}
