import { EnvReader, TLS_RELOAD_MS } from '@mayfly/config';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { experimental } from '@grpc/grpc-js';
import { MayflyError } from '@mayfly/core';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

export interface CertificatePaths {
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly caFile?: string | undefined;
}

export interface CertificateMaterial {
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  readonly ca?: Buffer | undefined;
}

export type CertificateFilesEvent = { kind: 'reloaded'; paths: CertificatePaths } | { kind: 'rejected'; paths: CertificatePaths; reason: string };

/** How often certificate files are re-read (MAYFLY_TLS_RELOAD_MS, default 10 s). */
function reloadIntervalMs(): number {
  return new EnvReader().read(TLS_RELOAD_MS);
}

/**
 * A certificate, its key and a CA bundle read from files and re-read every interval, so that
 * rotated files (cert-manager rewrites a Secret's files in place) take effect with no restart:
 * new connections use the new files, connections already open keep theirs. A set of files that
 * does not form a usable TLS identity (a key that does not match its certificate, as happens for
 * a moment when files are replaced one by one; an unreadable PEM) is not taken: the last good
 * set stays in use and the next read tries again.
 *
 * It is a grpc-js certificate provider, for servers and channels alike, and tells other
 * listeners (the JWKS HTTPS server) of every change.
 */
export class CertificateFiles implements experimental.CertificateProvider {
  private material: CertificateMaterial;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly changeListeners = new Set<(material: CertificateMaterial) => void>();
  private readonly eventListeners = new Set<(event: CertificateFilesEvent) => void>();
  private readonly timer: NodeJS.Timeout;
  private lastRejection: string | undefined;

  constructor(
    readonly paths: CertificatePaths,
    intervalMs = reloadIntervalMs(),
  ) {
    if (!paths.caFile && !paths.certFile) throw new MayflyError('ERR_CONFIG', 'a certificate provider needs a CA file or a certificate');
    if (!paths.certFile !== !paths.keyFile) throw new MayflyError('ERR_CONFIG', 'a certificate file needs its key file, and a key file its certificate');
    const first = this.read();
    if ('reason' in first) throw new MayflyError('ERR_CONFIG', `TLS files ${describe(paths)}: ${first.reason}`);
    this.material = first;
    this.timer = setInterval(() => this.reload(), intervalMs);
    this.timer.unref();
  }

  current(): CertificateMaterial {
    return this.material;
  }

  /** Re-reads the files now (the timer does this every interval). */
  reload(): void {
    const next = this.read();
    if ('reason' in next) {
      // Reported once per distinct fault, not every interval while it lasts.
      if (next.reason !== this.lastRejection) this.emit({ kind: 'rejected', paths: this.paths, reason: next.reason });
      this.lastRejection = next.reason;
      return;
    }
    this.lastRejection = undefined;
    if (same(next.cert, this.material.cert) && same(next.key, this.material.key) && same(next.ca, this.material.ca)) return;
    this.material = next;
    for (const listener of this.caListeners) listener(this.caUpdate());
    for (const listener of this.identityListeners) listener(this.identityUpdate());
    for (const listener of this.changeListeners) listener(next);
    this.emit({ kind: 'reloaded', paths: this.paths });
  }

  /** Called with the new material after each change. */
  onChange(listener: (material: CertificateMaterial) => void): void {
    this.changeListeners.add(listener);
  }

  /** Called when files are taken or refused (for logs). */
  onEvent(listener: (event: CertificateFilesEvent) => void): void {
    this.eventListeners.add(listener);
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    process.nextTick(() => listener(this.caUpdate()));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    process.nextTick(() => listener(this.identityUpdate()));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private caUpdate(): experimental.CaCertificateUpdate | null {
    return this.material.ca ? { caCertificate: this.material.ca } : null;
  }

  private identityUpdate(): experimental.IdentityCertificateUpdate | null {
    return this.material.cert && this.material.key ? { certificate: this.material.cert, privateKey: this.material.key } : null;
  }

  private read(): CertificateMaterial | { reason: string } {
    try {
      const material = {
        cert: this.paths.certFile ? readFileSync(this.paths.certFile) : undefined,
        key: this.paths.keyFile ? readFileSync(this.paths.keyFile) : undefined,
        ca: this.paths.caFile ? readFileSync(this.paths.caFile) : undefined,
      };
      // Throws for unparsable PEM and for a key that does not belong to the certificate.
      createSecureContext({ cert: material.cert, key: material.key, ca: material.ca });
      return material;
    } catch (error) {
      return { reason: (error as Error).message };
    }
  }

  private emit(event: CertificateFilesEvent): void {
    for (const listener of this.eventListeners) listener(event);
  }
}

const shared = new Map<string, CertificateFiles>();
const processListeners = new Set<(event: CertificateFilesEvent) => void>();

/** Hears every shared provider's events, present and future (a service logs them). */
export function onCertificateFilesEvent(listener: (event: CertificateFilesEvent) => void): () => void {
  processListeners.add(listener);
  return () => processListeners.delete(listener);
}

/**
 * One provider per set of files in a process: every client and server using the same files
 * shares one reader (and one timer).
 */
export function certificateFiles(paths: CertificatePaths): CertificateFiles {
  const key = JSON.stringify([paths.certFile ?? '', paths.keyFile ?? '', paths.caFile ?? '']);
  let files = shared.get(key);
  if (!files) {
    shared.set(key, (files = new CertificateFiles(paths)));
    files.onEvent((event) => processListeners.forEach((listener) => listener(event)));
  }
  return files;
}

function same(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}

function describe(paths: CertificatePaths): string {
  return [paths.certFile, paths.keyFile, paths.caFile].filter(Boolean).join(', ');
}
