import { signCheckpoint } from '@mayfly/model';
import type { KeyObject } from 'node:crypto';

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
