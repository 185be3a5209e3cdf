import { generateKeyPairSync, X509Certificate, type KeyPairKeyObjectResult } from 'node:crypto';
import { callUnary, createClient, waitForReady } from '@mayfly/grpc';
import { IssuanceServiceClient, type Evidence, type RequestGrantRequest, type RequestGrantResponse } from '@mayfly/proto';
import { GrantRequests } from './grant-stream.js';

/** Attestation issues no rotated certificate with less life than this (10 s), plus a margin. */
const MIN_ROTATED_LIFE_MS = 15_000;

/**
 * An attested session: an X.509-SVID for a key generated here and never sent anywhere, and an
 * issuance channel that presents it (mutual TLS). Grants asked for over that channel need no
 * evidence, and their tokens are bound to the certificate.
 */
export class WorkloadSession {
  private constructor(
    readonly spiffeId: string,
    readonly serial: string,
    readonly expiresAt: Date,
    readonly issuedAt: Date,
    /** The certificate, DER: what a resource's edge compares a bound token with. */
    readonly certificate: Buffer,
    /** The same certificate, PEM: what a delegator sends to bind a delegated token to it. */
    readonly certificatePem: string,
    readonly client: IssuanceServiceClient,
    /** Until when the session may rotate its certificate without evidence (a join token's); else undefined. */
    readonly rotatableUntil: Date | undefined,
  ) {}

  /** Attests `evidence` once through StartSession and opens the session's channel. */
  static async start(options: { issuanceAddress: string; evidence: Evidence; timeoutMs: number; bootstrap: IssuanceServiceClient }): Promise<WorkloadSession> {
    return WorkloadSession.open(options.issuanceAddress, options.bootstrap, options.evidence, options.timeoutMs);
  }

  /**
   * The same session with a new key and certificate, without evidence: StartSession over this
   * session's channel (mutual TLS with the current certificate). Only while `canRotate()`. A
   * certificate rotates once, so retries use the same new key: if an earlier answer was lost,
   * attestation answers with the same certificate again.
   */
  rotate(issuanceAddress: string, timeoutMs: number): Promise<WorkloadSession> {
    this.rotationKey ??= generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return WorkloadSession.open(issuanceAddress, this.client, undefined, timeoutMs, this.rotationKey);
  }

  private rotationKey: KeyPairKeyObjectResult | undefined;

  /** True while the session may rotate and a rotated certificate would still be worth having. */
  canRotate(now = Date.now()): boolean {
    return this.rotatableUntil !== undefined && this.rotatableUntil.getTime() - now > MIN_ROTATED_LIFE_MS;
  }

  private static async open(
    issuanceAddress: string,
    via: IssuanceServiceClient,
    evidence: Evidence | undefined,
    timeoutMs: number,
    key: KeyPairKeyObjectResult = generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  ): Promise<WorkloadSession> {
    const { publicKey, privateKey } = key;
    const deadline = new Date(Date.now() + timeoutMs);
    await waitForReady(via, deadline, 'issuance');
    const response = await callUnary(via, via.startSession, { evidence, publicKey: publicKey.export({ type: 'spki', format: 'der' }) }, { deadline, target: 'issuance' });
    const certificate = new X509Certificate(response.certificatePem);
    const client = createClient(IssuanceServiceClient, issuanceAddress, 'issuance', {
      certificatePem: response.certificatePem,
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    });
    // Its life counts from now: the certificate's notBefore is set back for clock skew.
    const expiresAt = response.expiresAt ?? new Date(certificate.validTo);
    return new WorkloadSession(response.spiffeId, response.serial, expiresAt, new Date(), certificate.raw, response.certificatePem, client, response.rotatableUntil);
  }

  private holders = 0;
  private closeWanted = false;

  renewAt(random = Math.random): Date {
    return renewalTime(this.issuedAt, this.expiresAt, random);
  }

  /**
   * Keeps the channel open for a grant bound to this certificate (its renewals must present
   * it), even after the client has moved on to a newer session. Call the returned function
   * when the grant no longer needs it.
   */
  hold(): () => void {
    this.holders += 1;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.holders -= 1;
      if (this.holders === 0 && this.closeWanted) this.closeChannel();
    };
  }

  /** Closes the channel, or — while grants hold it, unless `now` — once the last of them lets go. */
  close(now = false): void {
    this.closeWanted = true;
    if (this.holders === 0 || now) this.closeChannel();
  }

  /** True once the channel is closed. */
  get isClosed(): boolean {
    return this.channelClosed;
  }

  /**
   * Requests a grant within this session (mutual TLS with its certificate): over the session's
   * RequestGrantStream, or by RequestGrant call where issuance has no stream (see GrantRequests).
   */
  requestGrant(request: RequestGrantRequest, timeoutMs: number): Promise<RequestGrantResponse> {
    this.grants ??= new GrantRequests(this.client);
    return this.grants.request(request, timeoutMs);
  }

  private grants: GrantRequests | undefined;
  private channelClosed = false;

  private closeChannel(): void {
    this.channelClosed = true;
    this.grants?.close();
    this.client.close();
  }
}

/**
 * When to renew a certificate: about two thirds into its life, with ±10% jitter so that a
 * fleet started together does not renew in step.
 */
export function renewalTime(issuedAt: Date, expiresAt: Date, random: () => number = Math.random): Date {
  const life = expiresAt.getTime() - issuedAt.getTime();
  const jitter = (random() * 0.2 - 0.1) * life;
  return new Date(issuedAt.getTime() + (2 / 3) * life + jitter);
}
