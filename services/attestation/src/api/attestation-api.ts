import { LIMITS, MayflyError, actorOf, invalidArgument, sanitizeText, sha256Hex, validateSpiffeId, type Logger } from '@mayfly/core';
import { auditEvent, type AuditTrail } from '@mayfly/audit-trail';
import { findRotationSuccessor, findSessionState, recordSvid, recordSvidRotation, revokeSvid, revokeSvidsIssuedBefore, setWorkloadDisabled, type Database, type Kysely, type SvidRow } from '@mayfly/db';
import { unary } from '@mayfly/grpc';
import type { WorkloadCa } from '@mayfly/pki';
import { withSpan } from '@mayfly/telemetry';
import type { AttestationServiceServer, AuditEvent, RotateSvidResponse } from '@mayfly/proto';
import type { Attestor, EvidenceKind } from '../attestors/attestor.js';
import { attestWorkload } from '../domain/attest-workload.js';
import type { WorkloadRegistry } from '../domain/registry.js';
import { svidExpiry } from '../domain/svid-lifetime.js';
import { repeatedRotation, rotatedSvidExpiry } from '../domain/svid-rotation.js';

export interface AttestationApiDeps {
  readonly attestors: ReadonlyMap<EvidenceKind, Attestor>;
  readonly registry: WorkloadRegistry;
  readonly db: Kysely<Database>;
  readonly audit: AuditTrail;
  /** Undefined when no workload CA is configured: then no sessions. */
  readonly workloadCa: WorkloadCa | undefined;
  readonly svidMaxSeconds: number;
  readonly log: Logger;
}

const SOURCE = 'attestation';

export function attestationApi(deps: AttestationApiDeps): AttestationServiceServer {
  const { attestors, registry, log } = deps;
  const attest = (evidence: Parameters<typeof attestWorkload>[0]) =>
    withSpan('attest', {}, async (span) => {
      const result = await attestWorkload(evidence, attestors, registry);
      span.setAttributes({ 'mayfly.attestor': result.attestor, 'mayfly.spiffe_id': result.workload?.spiffeId ?? '' });
      return result;
    }).catch((error: unknown) => {
      log.info({ err: (error as Error).message }, 'attestation refused');
      throw error;
    });

  /** An operator change and its audit event, in one transaction; `missing` when there was nothing to change. */
  const audited = async (change: (tx: Kysely<Database>) => Promise<boolean>, event: AuditEvent, missing: () => MayflyError): Promise<void> => {
    await deps.db.transaction().execute(async (tx) => {
      if (!(await change(tx))) throw missing();
      await deps.audit.enqueue(tx, [event]);
    });
    deps.audit.deliver([event]).catch(() => undefined);
  };

  /** The workload CA, for a session certificate for this public key. */
  const sessionCa = (publicKey: Uint8Array): WorkloadCa => {
    if (!deps.workloadCa) {
      throw new MayflyError('ERR_CONFIG', 'sessions are not available: no workload CA is configured (MAYFLY_WORKLOAD_CA_FILE, MAYFLY_WORKLOAD_CA_KEY_FILE)');
    }
    if (publicKey.length === 0 || publicKey.length > 1024) throw invalidArgument('public_key', 'is required: a DER SubjectPublicKeyInfo of at most 1 KiB');
    return deps.workloadCa;
  };
  const signSvid = (ca: WorkloadCa, spiffeId: string, publicKey: Uint8Array, expiresAt: Date) =>
    withSpan('sign svid', { 'mayfly.spiffe_id': spiffeId }, () =>
      ca.signSvid(spiffeId, publicKey, expiresAt).catch((error: unknown) => {
        throw invalidArgument('public_key', (error as Error).message);
      }),
    );

  /** A rotated certificate's record as RotateSvid's answer (the PEM is added by the caller). */
  const rotationAnswer = (svid: SvidRow, ca: WorkloadCa): Omit<RotateSvidResponse, 'certificatePem'> => ({
    spiffeId: svid.spiffe_id,
    caPem: ca.certificatePem,
    serial: svid.serial,
    expiresAt: svid.expires_at,
    rotatableUntil: svid.rotatable_until ?? undefined,
    attestor: svid.attestor,
    issuer: svid.issuer,
    claims: svid.claims,
  });

  return {
    attest: unary(log, 'mayfly.v1.AttestationService/Attest', async (request) => attest(request.evidence)),

    issueSvid: unary(log, 'mayfly.v1.AttestationService/IssueSvid', async (request) => {
      const ca = sessionCa(request.publicKey);
      const attested = await attest(request.evidence);
      const spiffeId = attested.workload!.spiffeId;
      const expiresAt = svidExpiry(attested.evidenceExpiresAt ?? new Date(), deps.svidMaxSeconds);
      // The moment of issue, for "revoke every SVID issued before T" (the certificate's notBefore
      // is set a little earlier, for clock skew between hosts).
      const issuedAt = new Date();
      const svid = await signSvid(ca, spiffeId, request.publicKey, expiresAt);
      await recordSvid(deps.db, {
        serial: svid.serial,
        spiffeId,
        evidenceDigest: attested.evidenceDigest,
        issuedAt,
        expiresAt: svid.notAfter,
        attestor: attested.attestor,
        issuer: attested.issuer,
        claims: attested.claims,
        rotatableUntil: attested.rotatableUntil,
      });
      return {
        spiffeId,
        certificatePem: svid.certificatePem,
        caPem: ca.certificatePem,
        serial: svid.serial,
        expiresAt: svid.notAfter,
        attestor: attested.attestor,
        issuer: attested.issuer,
        subject: attested.subject,
        evidenceDigest: attested.evidenceDigest,
        claims: attested.claims,
        rotatableUntil: attested.rotatableUntil,
      };
    }),

    rotateSvid: unary(log, 'mayfly.v1.AttestationService/RotateSvid', async (request) => {
      const ca = sessionCa(request.publicKey);
      validateSpiffeId('spiffe_id', request.spiffeId);
      if (!/^[0-9a-f]{1,64}$/.test(request.serial)) throw invalidArgument('serial', 'must be the certificate serial in lower-case hex');
      const issuedAt = new Date();
      const state = await findSessionState(deps.db, request.spiffeId, request.serial);
      const publicKeySha256 = sha256Hex(request.publicKey);
      if (state.svid?.rotated_at) {
        // A retry whose first answer was lost gets the same certificate again.
        const again = repeatedRotation(request, state, await findRotationSuccessor(deps.db, request.serial), publicKeySha256, issuedAt);
        if (again) return { ...rotationAnswer(again, ca), certificatePem: again.certificate_pem! };
      }
      const expiresAt = rotatedSvidExpiry(request, state, deps.svidMaxSeconds, issuedAt);
      const current = state.svid!;
      const svid = await signSvid(ca, request.spiffeId, request.publicKey, expiresAt);
      const recorded = await recordSvidRotation(
        deps.db,
        {
          serial: svid.serial,
          spiffeId: request.spiffeId,
          evidenceDigest: current.evidence_digest,
          issuedAt,
          expiresAt: svid.notAfter,
          attestor: current.attestor,
          issuer: current.issuer,
          claims: current.claims,
          rotatableUntil: current.rotatable_until ?? undefined,
          rotatedFrom: current.serial,
          publicKeySha256,
          certificatePem: svid.certificatePem,
        },
        issuedAt,
      );
      // Two rotations of one certificate at once: only one wins.
      if (!recorded) throw new MayflyError('ERR_SVID_REJECTED', `certificate ${current.serial} was rotated or revoked meanwhile; a certificate rotates once`);
      log.info({ spiffeId: request.spiffeId, from: current.serial, serial: svid.serial }, 'session certificate rotated');
      return { ...rotationAnswer({ ...current, serial: svid.serial, expires_at: svid.notAfter }, ca), certificatePem: svid.certificatePem };
    }),

    setWorkloadEnabled: unary(log, 'mayfly.v1.AttestationService/SetWorkloadEnabled', async (request, call) => {
      validateSpiffeId('spiffe_id', request.spiffeId);
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength) || 'no reason given';
      const actor = actorOf(call.caller);
      await audited(
        (tx) => setWorkloadDisabled(tx, request.spiffeId, request.enabled ? null : new Date()),
        auditEvent(SOURCE, { kind: request.enabled ? 'workload.enabled' : 'workload.disabled', actor, outcome: 'success', detail: { spiffeId: request.spiffeId, reason } }),
        () => new MayflyError('ERR_WORKLOAD_NOT_FOUND', `workload ${request.spiffeId} is not registered`),
      );
      log.info({ spiffeId: request.spiffeId, enabled: request.enabled, actor }, request.enabled ? 'workload enabled' : 'workload disabled');
      return { spiffeId: request.spiffeId, enabled: request.enabled };
    }),

    revokeSvids: unary(log, 'mayfly.v1.AttestationService/RevokeSvids', async (request, call) => {
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength) || 'no reason given';
      const actor = actorOf(call.caller);
      if (request.serial) {
        if (!/^[0-9a-f]{1,64}$/.test(request.serial)) throw invalidArgument('serial', 'must be the certificate serial in lower-case hex');
        let spiffeId = '';
        await audited(
          async (tx) => {
            const revoked = await revokeSvid(tx, request.serial, reason, new Date());
            spiffeId = revoked?.spiffe_id ?? '';
            return revoked !== undefined;
          },
          auditEvent(SOURCE, { kind: 'svid.revoked', actor, outcome: 'success', detail: { serial: request.serial, reason } }),
          () => new MayflyError('ERR_NOT_FOUND', `no SVID with serial ${request.serial}`),
        );
        return { spiffeId };
      }
      validateSpiffeId('spiffe_id', request.spiffeId);
      const before = request.issuedBefore ?? new Date();
      await audited(
        (tx) => revokeSvidsIssuedBefore(tx, request.spiffeId, before),
        auditEvent(SOURCE, { kind: 'svid.revoked', actor, outcome: 'success', detail: { spiffeId: request.spiffeId, issuedBefore: before.toISOString(), reason } }),
        () => new MayflyError('ERR_WORKLOAD_NOT_FOUND', `workload ${request.spiffeId} is not registered`),
      );
      return { spiffeId: request.spiffeId };
    }),
  };
}
