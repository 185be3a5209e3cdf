import { randomBytes } from 'node:crypto';
import { LIMITS, MayflyError, actorOf, invalidArgument, newId, sanitizeText, sha256Hex, validateSpiffeId, validateUuid, type Logger } from '@mayfly/core';
import type { JoinTokenRecord } from '@mayfly/model';
import { unary } from '@mayfly/grpc';
import type { JoinToken, RegistryServiceServer } from '@mayfly/proto';
import type { RegistryPorts } from '../domain/ports.js';
import { changeRecord } from './registry-change.js';

const DEFAULT_TTL_SECONDS = 600;
const MAX_TTL_SECONDS = 3600;

function toJoinTokenMessage(row: JoinTokenRecord): JoinToken {
  return { id: row.id, spiffeId: row.spiffe_id, expiresAt: row.expires_at, createdAt: row.created_at, createdBy: row.created_by, usedAt: row.used_at ?? undefined };
}

/** RegistryService's join tokens: one-time bootstrap evidence for one registered workload. */
export function joinTokensApi({ registry, log }: { registry: RegistryPorts; log: Logger }): Pick<RegistryServiceServer, 'createJoinToken' | 'listJoinTokens' | 'removeJoinToken'> {
  return {
    createJoinToken: unary(log, 'mayfly.v1.RegistryService/CreateJoinToken', async (request, call) => {
      validateSpiffeId('spiffe_id', request.spiffeId);
      const ttlSeconds = request.ttlSeconds || DEFAULT_TTL_SECONDS;
      if (ttlSeconds > MAX_TTL_SECONDS) throw invalidArgument('ttl_seconds', `must be at most ${MAX_TTL_SECONDS}: a join token is for bootstrapping now, not a standing credential`);
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      // The secret leaves in this answer only; Mayfly keeps its SHA-256.
      const token = `mfjt_${randomBytes(32).toString('base64url')}`;
      const row = await registry.change(async (store) => {
        const workload = await store.findWorkload(request.spiffeId);
        if (!workload) throw new MayflyError('ERR_WORKLOAD_NOT_FOUND', `no workload ${request.spiffeId} is registered: register it first (mayfly workloads create)`);
        if (workload.disabled_at) throw new MayflyError('ERR_WORKLOAD_DISABLED', `workload ${request.spiffeId} is disabled: enable it before creating a join token`);
        const created = await store.insertJoinToken({ id: newId(), digest: sha256Hex(token), spiffeId: request.spiffeId, expiresAt: new Date(Date.now() + ttlSeconds * 1000), createdBy: actorOf(call.caller) });
        return { result: created, event: changeRecord('join_token.created', actorOf(call.caller), { joinTokenId: created.id, spiffeId: created.spiffe_id, expiresAt: created.expires_at.toISOString(), ...(reason ? { reason } : {}) }) };
      });
      log.info({ id: row.id, spiffeId: row.spiffe_id, actor: actorOf(call.caller) }, 'join token created');
      return { joinToken: toJoinTokenMessage(row), token };
    }),

    listJoinTokens: unary(log, 'mayfly.v1.RegistryService/ListJoinTokens', async (request) => {
      if (request.spiffeId) validateSpiffeId('spiffe_id', request.spiffeId);
      return { joinTokens: (await registry.records.listJoinTokens(request.spiffeId || undefined)).map(toJoinTokenMessage) };
    }),

    removeJoinToken: unary(log, 'mayfly.v1.RegistryService/RemoveJoinToken', async (request, call) => {
      validateUuid('id', request.id);
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      await registry.change(async (store) => {
        const removed = await store.deleteUnusedJoinToken(request.id);
        if (!removed) throw new MayflyError('ERR_NOT_FOUND', `no unused join token ${request.id} (a used one stays on record)`);
        return { result: undefined, event: changeRecord('join_token.removed', actorOf(call.caller), { joinTokenId: removed.id, spiffeId: removed.spiffe_id, ...(reason ? { reason } : {}) }) };
      });
      return {};
    }),
  };
}
