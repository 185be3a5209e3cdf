import { sql, type Kysely } from 'kysely';
import type { NewSvid } from '@mayfly/model';
import type { Database, SvidRow, WorkloadRow } from '../schema.js';

export type { NewSvid };

/** Records an SVID attestation has signed, so that it can be revoked by serial. */
export async function recordSvid(db: Kysely<Database>, svid: NewSvid): Promise<void> {
  await db
    .insertInto('svids')
    .values({
      serial: svid.serial,
      spiffe_id: svid.spiffeId,
      evidence_digest: svid.evidenceDigest,
      issued_at: svid.issuedAt,
      expires_at: svid.expiresAt,
      revoked_at: null,
      revoke_reason: null,
      attestor: svid.attestor,
      issuer: svid.issuer,
      claims: JSON.stringify(svid.claims),
      rotatable_until: svid.rotatableUntil ?? null,
      rotated_from: svid.rotatedFrom ?? null,
      public_key_sha256: svid.publicKeySha256 ?? null,
      certificate_pem: svid.certificatePem ?? null,
    })
    .execute();
}

/** The certificate that replaced this one by rotation, if any. */
export async function findRotationSuccessor(db: Kysely<Database>, serial: string): Promise<SvidRow | undefined> {
  return db.selectFrom('svids').selectAll().where('rotated_from', '=', serial).executeTakeFirst();
}

/**
 * Records a rotation: marks the current certificate rotated — only if nobody rotated or revoked
 * it meanwhile — and records its successor, in one transaction. False (and nothing written) if
 * the current certificate was rotated or revoked first.
 */
export async function recordSvidRotation(db: Kysely<Database>, next: NewSvid & { rotatedFrom: string }, now: Date): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const marked = await tx
      .updateTable('svids')
      .set({ rotated_at: now })
      .where('serial', '=', next.rotatedFrom)
      .where('rotated_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(marked.numUpdatedRows) === 0) return false;
    await recordSvid(tx, next);
    return true;
  });
}

/** The workload a session certificate names and the certificate's record, in one query. */
export async function findSessionState(db: Kysely<Database>, spiffeId: string, serial: string): Promise<{ workload: WorkloadRow | undefined; svid: SvidRow | undefined }> {
  const [workload, svid] = await Promise.all([
    db.selectFrom('workloads').selectAll().where('spiffe_id', '=', spiffeId).executeTakeFirst(),
    db.selectFrom('svids').selectAll().where('serial', '=', serial).executeTakeFirst(),
  ]);
  return { workload, svid };
}

/** Disables (or enables) a workload. Returns false if there is no such workload. */
export async function setWorkloadDisabled(db: Kysely<Database>, spiffeId: string, disabledAt: Date | null): Promise<boolean> {
  const result = await db.updateTable('workloads').set({ disabled_at: disabledAt }).where('spiffe_id', '=', spiffeId).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Revokes one SVID by serial. Returns its record, or undefined if there is none. */
export async function revokeSvid(db: Kysely<Database>, serial: string, reason: string, at: Date): Promise<SvidRow | undefined> {
  return db
    .updateTable('svids')
    .set({ revoked_at: at, revoke_reason: reason })
    .where('serial', '=', serial)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Every SVID of the workload issued before `before` is no longer accepted. The cut-off only moves
 * forward: an earlier `before` than the one in force changes nothing (it must not re-admit
 * certificates a later cut-off refused). False if no such workload.
 */
export async function revokeSvidsIssuedBefore(db: Kysely<Database>, spiffeId: string, before: Date): Promise<boolean> {
  const result = await db
    .updateTable('workloads')
    .set({ svids_not_before: sql<Date>`greatest(coalesce(svids_not_before, ${before}), ${before})` })
    .where('spiffe_id', '=', spiffeId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
