import { X509Certificate } from 'node:crypto';
import { isEvidenceAlgorithm, validateSpiffeId } from '@mayfly/core';
import { compactVerify, decodeProtectedHeader, errors } from 'jose';
import type { AttestedSubject, Attestor } from '../attestor.js';
import { attestationFailed } from '../attestation-failure.js';
import { pickClaims } from '../claims.js';
import { describeJoseFailure } from '../jwt/verify-jwt.js';
import { isHighS, readSignedContent } from '../jwt/signed-content.js';
import type { TrustedIssuer, TrustedIssuerSource } from '../trusted-issuers.js';
import { MAX_CHAIN_LENGTH, chainProblem, commonName, oneLine, readPemBundle, uriSans } from '../../domain/certificate-chain.js';


export interface X509AttestorOptions {
  readonly issuers: TrustedIssuerSource;
  readonly clockToleranceSeconds: number;
}

/**
 * Proof of an X.509 client certificate from an existing PKI or a SPIFFE X.509-SVID. A certificate
 * alone proves nothing (it is public); the evidence is a short-lived compact JWS signed with the
 * certificate's private key, the chain in its x5c header — proof of possession without a round
 * trip, single-use like any evidence. The chain must lead to a CA registered as an issuer of kind
 * x509; claims are the certificate's SPIFFE ID (URI SAN), subject, CN, serial and issuer.
 */
export class X509Attestor implements Attestor {
  readonly name = 'x509';
  readonly evidenceKind = 'x509_assertion' as const;
  private readonly anchorCache = new Map<string, { pem: string; certificates: X509Certificate[] }>();

  constructor(private readonly options: X509AttestorOptions) {}

  async attest(evidence: string): Promise<AttestedSubject> {
    const content = readSignedContent(evidence);
    if ('problem' in content) throw this.failed(content.problem);
    const chain = this.readChain(evidence);
    const leaf = chain[0]!;
    const now = new Date();
    const problems: string[] = [];
    for (const trusted of await this.options.issuers.ofKind('x509')) {
      const problem = chainProblem(chain, this.anchors(trusted), now);
      if (problem === undefined) return this.verifyAssertion(evidence, content, leaf, trusted);
      problems.push(`${trusted.issuer}: ${problem}`);
    }
    throw this.failed(problems.length === 0 ? 'no X.509 CA is trusted (register one as an issuer of kind x509)' : `the certificate does not chain to a trusted CA — ${problems.join('; ')}`);
  }

  private async verifyAssertion(evidence: string, content: { digest: string; algorithm: string; signature: Buffer }, leaf: X509Certificate, trusted: TrustedIssuer): Promise<AttestedSubject> {
    if (trusted.requireLowS && isHighS(content.algorithm, content.signature)) throw this.failed('evidence carries a high-S ECDSA signature; this CA is registered to require low-S signatures');
    let payload: Record<string, unknown>;
    try {
      const verified = await compactVerify(evidence, leaf.publicKey, { algorithms: trusted.algorithms.filter(isEvidenceAlgorithm) });
      payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof errors.JOSEError) throw this.failed(`${describeJoseFailure(error)} (signed with the certificate's key?)`, error);
      throw this.failed('evidence payload is not JSON', error);
    }
    const nowSeconds = Date.now() / 1000;
    const tolerance = this.options.clockToleranceSeconds;
    const { exp, iat, aud } = payload;
    if (typeof exp !== 'number' || typeof iat !== 'number') throw this.failed('evidence needs numeric iat and exp');
    if (exp + tolerance < nowSeconds) throw this.failed('evidence has expired');
    if (iat - tolerance > nowSeconds) throw this.failed('evidence claims to be issued in the future (iat)');
    if (exp - iat > trusted.maxEvidenceLifetimeSeconds) throw this.failed(`evidence is valid for ${Math.round(exp - iat)} s, longer than this CA's maximum of ${trusted.maxEvidenceLifetimeSeconds} s`);
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!trusted.audiences.some((audience) => audiences.includes(audience))) throw this.failed(`evidence aud must include one of ${trusted.audiences.map((audience) => JSON.stringify(audience)).join(', ')}`);

    const spiffeIds = uriSans(leaf).filter((uri) => uri.startsWith('spiffe://'));
    if (spiffeIds.length > 1) throw this.failed('the certificate names more than one SPIFFE ID (an X.509-SVID has exactly one URI SAN)');
    const spiffeId = spiffeIds[0];
    if (spiffeId !== undefined) {
      try {
        validateSpiffeId('uri_san', spiffeId);
      } catch {
        throw this.failed(`the certificate's URI SAN ${JSON.stringify(spiffeId.slice(0, 200))} is not a valid SPIFFE ID`);
      }
    }
    const subject = oneLine(leaf.subject);
    const mapped = pickClaims(
      {
        spiffe_id: spiffeId,
        trust_domain: spiffeId ? new URL(spiffeId).host : trusted.trustDomain,
        path: spiffeId ? new URL(spiffeId).pathname : undefined,
        subject,
        common_name: commonName(leaf.subject),
        serial: leaf.serialNumber.toLowerCase(),
        issuer_subject: oneLine(leaf.issuer),
      },
      ['spiffe_id', 'trust_domain', 'path', 'subject', 'common_name', 'serial', 'issuer_subject'],
    );
    if ('problem' in mapped) throw this.failed(mapped.problem);
    const sub = spiffeId ?? subject;
    const expiresAt = new Date(Math.min(exp * 1000, new Date(leaf.validTo).getTime()));
    return {
      attestor: this.name,
      issuer: trusted.issuer,
      issuerKind: 'x509',
      subject: sub,
      expiresAt,
      evidenceDigest: content.digest,
      replayPolicy: trusted.replayPolicy,
      claims: { ...mapped.claims, sub },
    };
  }

  private readChain(evidence: string): X509Certificate[] {
    let x5c: unknown;
    try {
      x5c = decodeProtectedHeader(evidence).x5c;
    } catch {
      throw this.failed('evidence is not a compact JWS');
    }
    if (!Array.isArray(x5c) || x5c.length === 0) throw this.failed('evidence has no x5c header: put the certificate chain there, leaf first');
    if (x5c.length > MAX_CHAIN_LENGTH) throw this.failed(`x5c holds more than ${MAX_CHAIN_LENGTH} certificates`);
    return x5c.map((der, index) => {
      if (typeof der !== 'string') throw this.failed(`x5c[${index}] is not a base64 certificate`);
      try {
        return new X509Certificate(Buffer.from(der, 'base64'));
      } catch {
        throw this.failed(`x5c[${index}] is not a DER certificate`);
      }
    });
  }

  private anchors(trusted: TrustedIssuer): X509Certificate[] {
    const pem = trusted.caPem ?? '';
    const cached = this.anchorCache.get(trusted.issuer);
    if (cached?.pem === pem) return cached.certificates;
    const certificates = readPemBundle(pem);
    this.anchorCache.set(trusted.issuer, { pem, certificates });
    return certificates;
  }

  private failed(reason: string, cause?: unknown) {
    return attestationFailed(this.name, reason, cause);
  }
}
