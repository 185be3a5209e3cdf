import { LIMITS, MayflyError, actorOf, invalidArgument, isEvidenceIssuerKind, newId, sanitizeText, validateUuid, type Logger } from '@mayfly/core';
import type { AuditTrail } from '@mayfly/audit-trail';
import { deleteBindingRule, findTrustedIssuer, insertBindingRule, listBindingRules, type BindingRuleRow, type Database, type Kysely } from '@mayfly/db';
import { unary } from '@mayfly/grpc';
import type { BindingRule, RegistryServiceServer } from '@mayfly/proto';
import { checkBindingRule, templateClaims } from '../domain/binding-rule.js';
import { auditedChanges, changeRecord } from './registry-change.js';

function toRuleMessage(row: BindingRuleRow): BindingRule {
  return { id: row.id, issuer: row.issuer, match: row.match, spiffeIdTemplate: row.spiffe_id_template, description: row.description, createdAt: row.created_at };
}

/** RegistryService's binding rules: claims of one issuer's evidence → a SPIFFE ID. */
export function bindingRulesApi(deps: { db: Kysely<Database>; audit: AuditTrail; log: Logger }): Pick<RegistryServiceServer, 'createBindingRule' | 'removeBindingRule' | 'listBindingRules'> {
  const { db, log } = deps;
  const audited = auditedChanges(db, deps.audit);
  return {
    createBindingRule: unary(log, 'mayfly.v1.RegistryService/CreateBindingRule', async (request, call) => {
      const rule = request.rule;
      if (!rule) throw invalidArgument('rule', 'is required');
      if (rule.issuer === '' || rule.issuer.length > 512) throw invalidArgument('rule.issuer', 'is required: a trusted issuer');
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      const created = await audited(async (tx) => {
        const issuer = await findTrustedIssuer(tx, rule.issuer);
        if (!issuer) throw new MayflyError('ERR_NOT_FOUND', `issuer ${rule.issuer} is not trusted: trust it first (mayfly issuers put)`);
        if (!isEvidenceIssuerKind(issuer.kind)) throw invalidArgument('rule.issuer', `issuer kind ${issuer.kind} has no claims`);
        checkBindingRule(issuer.kind, rule.match, rule.spiffeIdTemplate, rule.description);
        if (templateClaims(rule.spiffeIdTemplate).includes('trust_domain') && !issuer.trust_domain && issuer.kind !== 'spiffe' && issuer.kind !== 'x509') {
          throw invalidArgument('rule.spiffe_id_template', `{trust_domain} needs the issuer's trust domain: set it on ${rule.issuer} (mayfly issuers put --trust-domain)`);
        }
        const row = await insertBindingRule(tx, { id: newId(), issuer: rule.issuer, match: rule.match, spiffeIdTemplate: rule.spiffeIdTemplate, description: rule.description, createdBy: actorOf(call.caller) });
        const detail = { id: row.id, issuer: row.issuer, match: Object.entries(row.match).map(([name, value]) => `${name}=${value}`), spiffeIdTemplate: row.spiffe_id_template, ...(reason ? { reason } : {}) };
        return { result: row, event: changeRecord('binding_rule.created', actorOf(call.caller), detail) };
      });
      log.info({ id: created.id, issuer: created.issuer, actor: actorOf(call.caller) }, 'binding rule created');
      return { rule: toRuleMessage(created) };
    }),

    removeBindingRule: unary(log, 'mayfly.v1.RegistryService/RemoveBindingRule', async (request, call) => {
      validateUuid('id', request.id);
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      await audited(async (tx) => {
        const removed = await deleteBindingRule(tx, request.id);
        if (!removed) throw new MayflyError('ERR_NOT_FOUND', `no binding rule ${request.id}`);
        return { result: undefined, event: changeRecord('binding_rule.removed', actorOf(call.caller), { id: removed.id, issuer: removed.issuer, spiffeIdTemplate: removed.spiffe_id_template, ...(reason ? { reason } : {}) }) };
      });
      return {};
    }),

    listBindingRules: unary(log, 'mayfly.v1.RegistryService/ListBindingRules', async (request) => {
      if (request.issuer.length > 512) throw invalidArgument('issuer', 'is too long');
      return { rules: (await listBindingRules(db, request.issuer || undefined)).map(toRuleMessage) };
    }),
  };
}
