import { LIMITS, MayflyError, actorOf, invalidArgument, isEvidenceIssuerKind, newId, sanitizeText, validateUuid, type Logger } from '@mayfly/core';
import type { BindingRuleRecord } from '@mayfly/model';
import { unary } from '@mayfly/grpc';
import type { BindingRule, RegistryServiceServer } from '@mayfly/proto';
import type { RegistryPorts } from '../domain/ports.js';
import { checkBindingRule, templateClaims } from '../domain/binding-rule.js';
import { changeRecord } from './registry-change.js';

function toRuleMessage(row: BindingRuleRecord): BindingRule {
  return { id: row.id, issuer: row.issuer, match: row.match, spiffeIdTemplate: row.spiffe_id_template, description: row.description, createdAt: row.created_at };
}

/** RegistryService's binding rules: claims of one issuer's evidence → a SPIFFE ID. */
export function bindingRulesApi({ registry, log }: { registry: RegistryPorts; log: Logger }): Pick<RegistryServiceServer, 'createBindingRule' | 'removeBindingRule' | 'listBindingRules'> {
  return {
    createBindingRule: unary(log, 'mayfly.v1.RegistryService/CreateBindingRule', async (request, call) => {
      const rule = request.rule;
      if (!rule) throw invalidArgument('rule', 'is required');
      if (rule.issuer === '' || rule.issuer.length > 512) throw invalidArgument('rule.issuer', 'is required: a trusted issuer');
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      const created = await registry.change(async (store) => {
        const issuer = await store.findTrustedIssuer(rule.issuer);
        if (!issuer) throw new MayflyError('ERR_NOT_FOUND', `issuer ${rule.issuer} is not trusted: trust it first (mayfly issuers put)`);
        if (!isEvidenceIssuerKind(issuer.kind)) throw invalidArgument('rule.issuer', `issuer kind ${issuer.kind} has no claims`);
        checkBindingRule(issuer.kind, rule.match, rule.spiffeIdTemplate, rule.description);
        if (templateClaims(rule.spiffeIdTemplate).includes('trust_domain') && !issuer.trust_domain && issuer.kind !== 'spiffe' && issuer.kind !== 'x509') {
          throw invalidArgument('rule.spiffe_id_template', `{trust_domain} needs the issuer's trust domain: set it on ${rule.issuer} (mayfly issuers put --trust-domain)`);
        }
        const row = await store.insertBindingRule({ id: newId(), issuer: rule.issuer, match: rule.match, spiffeIdTemplate: rule.spiffeIdTemplate, description: rule.description, createdBy: actorOf(call.caller) });
        const detail = { id: row.id, issuer: row.issuer, match: Object.entries(row.match).map(([name, value]) => `${name}=${value}`), spiffeIdTemplate: row.spiffe_id_template, ...(reason ? { reason } : {}) };
        return { result: row, event: changeRecord('binding_rule.created', actorOf(call.caller), detail) };
      });
      log.info({ id: created.id, issuer: created.issuer, actor: actorOf(call.caller) }, 'binding rule created');
      return { rule: toRuleMessage(created) };
    }),

    removeBindingRule: unary(log, 'mayfly.v1.RegistryService/RemoveBindingRule', async (request, call) => {
      validateUuid('id', request.id);
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      await registry.change(async (store) => {
        const removed = await store.deleteBindingRule(request.id);
        if (!removed) throw new MayflyError('ERR_NOT_FOUND', `no binding rule ${request.id}`);
        return { result: undefined, event: changeRecord('binding_rule.removed', actorOf(call.caller), { id: removed.id, issuer: removed.issuer, spiffeIdTemplate: removed.spiffe_id_template, ...(reason ? { reason } : {}) }) };
      });
      return {};
    }),

    listBindingRules: unary(log, 'mayfly.v1.RegistryService/ListBindingRules', async (request) => {
      if (request.issuer.length > 512) throw invalidArgument('issuer', 'is too long');
      return { rules: (await registry.records.listBindingRules(request.issuer || undefined)).map(toRuleMessage) };
    }),
  };
}
