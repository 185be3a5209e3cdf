import { intSetting, optionalSetting } from '../setting.js';

/** Settings of the decision service. */

export const POLICY_DIR = optionalSetting({
  name: 'MAYFLY_POLICY_DIR',
  readBy: ['decision'],
  defaultText: '`services/decision/policies` (the package\'s own)',
  description: 'the policy set (`*.cedar`, `schema.cedarschema`, `approval-rules.json`) stored as version 1 when the database holds none; after that `mayfly policy push` changes policy',
});
export const DECISION_ANSWERS_REMEMBERED = intSetting({
  name: 'MAYFLY_DECISION_ANSWERS_REMEMBERED',
  readBy: ['decision'],
  default: 10_000,
  min: 0,
  max: 1_000_000,
  description:
    'how many policy answers each replica remembers, keyed by everything Cedar can see of a request (workload and resource with their attributes, action, and the context attributes the policies read); a new policy set starts with none; 0 evaluates every request',
});

export const POLICY_CHECK_MS = intSetting({
  name: 'MAYFLY_POLICY_CHECK_MS',
  readBy: ['decision'],
  default: 5_000,
  min: 100,
  max: 300_000,
  description: 'how often each replica re-reads the active policy set besides the NOTIFY it hears (the bound on picking up a push should a notification be lost)',
});
