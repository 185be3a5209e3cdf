import type { ResourceInput } from './resource-record.js';
import type { BindingRuleRecord, JoinTokenRecord, ResourceRecord, NewSvid, StoredGrant, SvidRecord, TrustedIssuerInput, TrustedIssuerRecord, WorkloadInput, WorkloadRecord } from '@mayfly/model';
import type { AuditEvent } from '@mayfly/proto';

export type { NewSvid };

/** The SVID records sessions are checked against. */
export interface SvidStore {
  /** The workload and the certificate a session presents, as registered. */
  sessionState(spiffeId: string, serial: string): Promise<{ workload: WorkloadRecord | undefined; svid: SvidRecord | undefined }>;
  /** The certificate that replaced this one by rotation, if any. */
  rotationSuccessor(serial: string): Promise<SvidRecord | undefined>;
  record(svid: NewSvid): Promise<void>;
  /** Marks the current certificate rotated and records its successor, atomically; false if it was rotated or revoked first. */
  recordRotation(next: NewSvid & { rotatedFrom: string }, at: Date): Promise<boolean>;
}

/** The workload CA: signs X.509-SVIDs for a workload's public key. */
export interface SvidSigner {
  readonly caPem: string;
  /** Throws ERR_INVALID_ARGUMENT (field public_key) for a key it cannot certify. */
  sign(spiffeId: string, publicKey: Uint8Array, notAfter: Date): Promise<{ serial: string; certificatePem: string; notAfter: Date }>;
}

/**
 * Operator changes to sessions, each committed with its audit event in one transaction (and
 * nothing committed when it changed nothing).
 */
export interface SessionControls {
  /** False when the workload is not registered. */
  setWorkloadDisabled(spiffeId: string, disabledAt: Date | null, event: AuditEvent): Promise<boolean>;
  /** The revoked certificate; undefined when there is none with that serial. */
  revokeSvid(serial: string, reason: string, at: Date, event: AuditEvent): Promise<SvidRecord | undefined>;
  /** False when the workload is not registered. */
  revokeSvidsIssuedBefore(spiffeId: string, before: Date, event: AuditEvent): Promise<boolean>;
}

/** A workload's binding: evidence of `subject` from `issuer` proves `spiffe_id`. */
export interface WorkloadBinding {
  issuer: string;
  subject: string;
  spiffe_id: string;
}

/** The registry's records, read or changed; inside a change, everything runs in its transaction. */
export interface RegistryStore {
  findTrustedIssuer(issuer: string): Promise<TrustedIssuerRecord | undefined>;
  listTrustedIssuers(): Promise<TrustedIssuerRecord[]>;
  putTrustedIssuer(input: TrustedIssuerInput): Promise<{ row: TrustedIssuerRecord; created: boolean }>;
  /** How many bindings went with it; undefined when it was not trusted. */
  removeTrustedIssuer(issuer: string): Promise<number | undefined>;
  findWorkload(spiffeId: string): Promise<WorkloadRecord | undefined>;
  listWorkloads(filter: { prefix: string; limit: number }): Promise<WorkloadRecord[]>;
  activeGrantsOf(spiffeId: string, limit: number): Promise<StoredGrant[]>;
  listBindings(spiffeId: string | undefined): Promise<WorkloadBinding[]>;
  /** The SPIFFE ID the subject was bound to before, if any. */
  putBinding(binding: { issuer: string; subject: string; spiffeId: string }): Promise<string | undefined>;
  removeBinding(issuer: string, subject: string): Promise<boolean>;
  listBindingRules(issuer: string | undefined): Promise<BindingRuleRecord[]>;
  insertBindingRule(rule: { id: string; issuer: string; match: Record<string, string>; spiffeIdTemplate: string; description: string; createdBy: string }): Promise<BindingRuleRecord>;
  deleteBindingRule(id: string): Promise<BindingRuleRecord | undefined>;
  listJoinTokens(spiffeId: string | undefined): Promise<JoinTokenRecord[]>;
  insertJoinToken(token: { id: string; digest: string; spiffeId: string; expiresAt: Date; createdBy: string }): Promise<JoinTokenRecord>;
  /** A used token stays on record: undefined when there is no unused one with that id. */
  deleteUnusedJoinToken(id: string): Promise<JoinTokenRecord | undefined>;
  findResource(name: string): Promise<ResourceRecord | undefined>;
  listResources(): Promise<ResourceRecord[]>;
  putResource(input: ResourceInput & { updatedBy: string }): Promise<{ row: ResourceRecord; created: boolean }>;
  deleteResource(name: string): Promise<ResourceRecord | undefined>;
  /** How many grants on this resource are active or waiting for approval (their logins must live). */
  liveGrantsOn(resource: string): Promise<number>;
}

/**
 * Connects to a resource with its admin credential and checks it can make logins there and that
 * every mapped role (or ACL rule) is usable; throws ERR_INVALID_ARGUMENT saying what is missing.
 */
export type ResourceCheck = (resource: ResourceInput) => Promise<void>;

/** The registry as RegistryService changes it: every change commits with its audit event. */
export interface RegistryPorts {
  /** Reads, outside any transaction. */
  readonly records: RegistryStore;
  /** Runs `work` in one transaction and commits the audit event it returns with it (a throw commits nothing). */
  change<T>(work: (store: RegistryStore) => Promise<{ result: T; event: AuditEvent }>): Promise<T>;
  /** Registers a workload with its audit event; undefined (nothing written) when it is registered already. */
  createWorkload(input: WorkloadInput, event: AuditEvent): Promise<WorkloadRecord | undefined>;
  /** Replaces a workload's record, with the audit event made from it before and after; undefined when it is not registered. */
  replaceWorkload(input: WorkloadInput, eventFor: (before: WorkloadRecord) => AuditEvent): Promise<{ before: WorkloadRecord; after: WorkloadRecord } | undefined>;
}
