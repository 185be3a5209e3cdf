import type { KeyObject } from 'node:crypto';
import { ed25519PrivateKey, signCheckpoint } from '@mayfly/audit-trail';
import type { Logger } from '@mayfly/core';
import { loadEd25519KeyFile } from '@mayfly/keyring';

export interface CheckpointPorts {
  readHead(): Promise<{ position: string; chainHash: Buffer }>;
  lastCheckpointPosition(): Promise<string | undefined>;
  insert(checkpoint: { position: string; chain_hash: Buffer; signed_at: Date; key_id: string; public_key: string; signature: Buffer; previous_position: string }): Promise<void>;
}

export interface CheckpointKey {
  readonly privateKey: KeyObject;
  /** The public key's JWK x: what verifiers are given to trust. */
  readonly publicKey: string;
}

/**
 * The audit service's checkpoint key (Ed25519, MAYFLY_AUDIT_CHECKPOINT_KEY_FILE: a private JWK).
 * It never goes into the database: that is what makes a signed checkpoint worth more than the
 * chain an attacker with database access could recompute. Without a file, a key for this process
 * only (development): its checkpoints still bind the chain, but verifiers must take the key from
 * the checkpoint rows.
 */
export function loadCheckpointKey(file: string | undefined, log: Logger): CheckpointKey {
  const jwk = loadEd25519KeyFile(file, 'MAYFLY_AUDIT_CHECKPOINT_KEY_FILE', () =>
    log.warn('no MAYFLY_AUDIT_CHECKPOINT_KEY_FILE: signing audit checkpoints with a key that lives only as long as this process'),
  );
  return { privateKey: ed25519PrivateKey(jwk), publicKey: jwk.x };
}

/**
 * Signs the chain's head when it has moved past the last checkpoint. Each checkpoint names the
 * one before it (v2), so that deleting checkpoints leaves a gap. A head behind the last
 * checkpoint means the log was cut back: nothing is signed over it (see HeadPublisher).
 */
export class CheckpointSigner {
  constructor(
    private readonly ports: CheckpointPorts,
    private readonly key: CheckpointKey,
  ) {}

  async checkpoint(now: Date): Promise<string | undefined> {
    const head = await this.ports.readHead();
    const previous = (await this.ports.lastCheckpointPosition()) ?? '0';
    if (head.position === '0' || BigInt(head.position) <= BigInt(previous)) return undefined;
    const checkpoint = { position: head.position, chainHash: head.chainHash, signedAt: now, previousPosition: previous };
    await this.ports.insert({
      position: head.position,
      chain_hash: head.chainHash,
      signed_at: now,
      key_id: this.key.publicKey.slice(0, 16),
      public_key: this.key.publicKey,
      signature: signCheckpoint(checkpoint, this.key.privateKey),
      previous_position: previous,
    });
    return head.position;
  }
}
