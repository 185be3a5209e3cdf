import {
  deadLetterAudit,
  enqueueAuditEvents,
  listPendingAudit,
  removeDeliveredAudit,
  recordAuditDeliveryFailure,
  recordAuditRefusal,
  type Database,
  type Kysely,
} from '@mayfly/db';
import { makeGenericClientConstructor, type Client } from '@grpc/grpc-js';
import { callUnary, createClient } from '@mayfly/grpc';
import { AuditServiceService, type AuditEvent, type RecordResponse } from '@mayfly/proto';
import { recordRequestBytes } from './encoded-events.js';

/** One service's outbox of audit events: where they wait, are retried, and are set aside. */
export interface AuditOutbox {
  /** Adds entries outside any caller's transaction (the dead-letter notice). */
  enqueue(entries: readonly { id: string; payload: Buffer }[]): Promise<void>;
  /** The oldest undelivered entries. */
  listPending(limit: number): Promise<readonly { id: string; payload: Buffer }[]>;
  /** The audit service has them: they leave the outbox. */
  markDelivered(ids: readonly string[], at: Date): Promise<void>;
  recordDeliveryFailure(ids: readonly string[], message: string): Promise<void>;
  /** Counts one refusal of an event for its content; returns how many it has had. */
  recordRefusal(id: string, message: string): Promise<number>;
  deadLetter(id: string, at: Date): Promise<void>;
}

/** Where events go: the audit service's Record. Throws as callUnary does (a MayflyError with the gRPC status). */
export interface AuditSink {
  record(events: readonly AuditEvent[], deadline: Date | undefined): Promise<void>;
  close(): void;
}

export function postgresAuditOutbox(db: Kysely<Database>, owner: string): AuditOutbox {
  return {
    enqueue: (entries) => enqueueAuditEvents(db, owner, [...entries]),
    listPending: (limit) => listPendingAudit(db, owner, limit),
    markDelivered: (ids) => removeDeliveredAudit(db, [...ids]),
    recordDeliveryFailure: (ids, message) => recordAuditDeliveryFailure(db, [...ids], message),
    recordRefusal: (id, message) => recordAuditRefusal(db, id, message),
    deadLetter: (id, at) => deadLetterAudit(db, id, at),
  };
}

/**
 * A client of the audit service's Record that writes the request from the events' encodings
 * (recordRequestBytes): the audit service reads the same RecordRequest, and the sender does not
 * encode again what it encoded for its outbox.
 */
const RecordClient = makeGenericClientConstructor(
  { record: { ...AuditServiceService.record, requestSerialize: recordRequestBytes } },
  'mayfly.v1.AuditService',
);
type RecordMethod = Parameters<typeof callUnary<readonly AuditEvent[], RecordResponse>>[1];

export function grpcAuditSink(auditAddress: string): AuditSink {
  const client: Client & { record?: unknown } = createClient(RecordClient, auditAddress, 'audit');
  const record = client.record as RecordMethod;
  return {
    record: async (events, deadline) => void (await callUnary(client, record, events, { deadline, timeoutMs: 2_000, target: 'audit' })),
    close: () => client.close(),
  };
}
