import { describe, expect, it } from 'vitest';
import { AgentConfigError, parseAgentConfig } from './agent-config.js';

const valid = `
issuance: issuance.mayfly.svc:7001
caFile: /etc/mayfly/ca.pem
evidence:
  kind: oidc-token
  file: /var/run/secrets/tokens/mayfly
task:
  kind: service
grants:
  - name: orders-db
    resource: pg:orders-db
    actions: [read]
    ttlSeconds: 300
    files:
      dsn: /run/mayfly/orders.dsn
      pgpass: /run/mayfly/.pgpass
  - name: api
    resource: https://api.internal
    actions: [read, write]
    files:
      token: /run/mayfly/api.token
exec:
  command: [python3, app.py]
  onRotate: restart
health:
  port: 9470
metrics:
  port: 9471
`;

const problems = (text: string): readonly string[] => {
  try {
    parseAgentConfig(text, 'agent.yaml');
  } catch (error) {
    if (error instanceof AgentConfigError) return error.problems;
    throw error;
  }
  throw new Error('the config was accepted');
};

describe('agent config', () => {
  it('reads a full config with its defaults', () => {
    const config = parseAgentConfig(valid, 'agent.yaml');
    expect(config).toMatchObject({
      issuance: 'issuance.mayfly.svc:7001',
      caFile: '/etc/mayfly/ca.pem',
      session: true,
      evidence: { kind: 'oidc-token', file: '/var/run/secrets/tokens/mayfly' },
      task: { id: undefined, kind: 'service', reference: '' },
      exec: { command: ['python3', 'app.py'], onRotate: 'restart', signal: 'SIGHUP' },
      health: { host: '127.0.0.1', port: 9470 },
      metrics: { host: '127.0.0.1', port: 9471 },
    });
    expect(config.grants).toEqual([
      { name: 'orders-db', resource: 'pg:orders-db', actions: ['read'], ttlSeconds: 300, justification: '', tokenFile: undefined, dsnFile: '/run/mayfly/orders.dsn', pgpassFile: '/run/mayfly/.pgpass', envFile: undefined },
      { name: 'api', resource: 'https://api.internal', actions: ['read', 'write'], ttlSeconds: 0, justification: '', tokenFile: '/run/mayfly/api.token', dsnFile: undefined, pgpassFile: undefined, envFile: undefined },
    ]);
  });

  it('takes issuance from MAYFLY_ISSUANCE_ADDR when the file leaves it out', () => {
    const config = parseAgentConfig(valid.replace('issuance: issuance.mayfly.svc:7001\n', ''), 'agent.yaml', { MAYFLY_ISSUANCE_ADDR: '10.0.0.7:7001' });
    expect(config.issuance).toBe('10.0.0.7:7001');
  });

  it('names every problem at once, each with its line and path', () => {
    const found = problems(`issuance: nowhere
evidence:
  kind: kubernetes
grants:
  - name: orders
    resource: pg:orders-db
    actions: [read]
    ttlSeconds: 1.5
    files:
      token: /run/a
      dsn: /run/a
  - name: orders
    resource: pg:x
    actions: []
    files:
      tokn: /run/b
sesion: false
`);
    expect(found).toEqual(
      expect.arrayContaining([
        'line 1: issuance: must be host:port, not "nowhere"',
        'line 3: evidence.kind: must be one of oidc-token, jwt-svid, join-token, x509',
        'line 8: grants[0].ttlSeconds: must be a whole number of seconds from 0 (the default) to 86400',
        'line 11: grants[0].files.dsn: /run/a is also grants[0].files.token: each credential needs its own file',
        'line 12: grants[1].name: orders is used by another grant',
        'line 14: grants[1].actions: must be a list of one or more actions, e.g. [read]',
        'line 16: grants[1].files.tokn: is not a setting here (known: token, dsn, pgpass, env)',
        'line 17: sesion: is not a setting here (known: issuance, caFile, trustDomain, evidence, session, task, grants, exec, health, metrics)',
      ]),
    );
  });

  it('x509 evidence: the certificate and key files and the audience, each required', () => {
    const x509 = valid.replace('  kind: oidc-token\n  file: /var/run/secrets/tokens/mayfly\n', '  kind: x509\n  certFile: /etc/pki/machine.crt\n  keyFile: /etc/pki/machine.key\n  audience: mayfly-x509\n');
    expect(parseAgentConfig(x509, 'agent.yaml').evidence).toEqual({ kind: 'x509', certFile: '/etc/pki/machine.crt', keyFile: '/etc/pki/machine.key', audience: 'mayfly-x509' });
    expect(problems(x509.replace('  audience: mayfly-x509\n', '').replace('/etc/pki/machine.key', 'machine.key'))).toEqual([
      'line 7: evidence.keyFile: must be an absolute path, not "machine.key"',
      'line 5: evidence.audience: is required',
    ]);
  });

  it('refuses YAML that does not parse, and duplicate keys, with their line', () => {
    expect(problems('issuance: a:1\ngrants: [\n')[0]).toMatch(/^line \d+: /);
    expect(problems('issuance: a:1\nissuance: b:2\n').join('\n')).toMatch(/line 2: .*unique/i);
  });
});
