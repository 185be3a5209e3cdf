import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import { EnvReader } from './env.js';
import { SETTINGS, MAX_TTL_SECONDS, SERVICE_PORT } from './registry/index.js';
import { renderSettingsTable, withSettingsTable } from './settings-table.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('the settings registry', () => {
  it('is what the README says: its table is generated from the registry (npm run docs:settings)', () => {
    expect(withSettingsTable(readme)).toBe(readme);
  });

  it('would notice a README edited by hand', () => {
    const edited = readme.replace('| `MAYFLY_MAX_TTL_SECONDS` | 3600 |', '| `MAYFLY_MAX_TTL_SECONDS` | 7200 |');
    expect(edited).not.toBe(readme);
    expect(withSettingsTable(edited)).not.toBe(edited);
  });

  it('names each variable once', () => {
    const names = SETTINGS.map((entry) => ('pattern' in entry ? entry.pattern : entry.name));
    expect(new Set(names).size).toBe(names.length);
    expect(renderSettingsTable().split('\n').length).toBe(SETTINGS.length + 4);
  });

  it('documents every MAYFLY_ variable the services and libraries mention in their code', async () => {
    const { execFileSync } = await import('node:child_process');
    const root = new URL('../../../', import.meta.url).pathname;
    const found = execFileSync('grep', ['-rhoE', "'MAYFLY_[A-Z0-9_]+'", 'services', 'libs', '--include=*.ts', '--exclude=*.test.ts', '--exclude-dir=dist', '--exclude-dir=node_modules', '--exclude-dir=config'], { cwd: root, encoding: 'utf8' });
    const documented = new Set(SETTINGS.map((entry) => ('pattern' in entry ? entry.pattern : entry.name)));
    const names = new Set(found.split('\n').filter(Boolean).map((quoted) => quoted.slice(1, -1)));
    expect(names.has('MAYFLY_ALLOW_UNAUTHENTICATED_NATS')).toBe(true); // the scan sees code outside the registry
    const perService = /^MAYFLY_(ATTESTATION|DECISION|ISSUANCE|REVOCATION|AUDIT|EDGE_VERIFIER)_(PORT|ADDR|HEALTH_PORT|METRICS_PORT)$/;
    // Names that are not settings: stream and NOTIFY channel names, the CLI's own flags, and what
    // the agent gives the command it runs (MAYFLY_AGENT_TASK_ID, MAYFLY_<GRANT>_TOKEN …).
    const notSettings = new Set(['MAYFLY_REVOCATIONS', 'MAYFLY_AUDIT_HEAD', 'MAYFLY_AGENT_TASK_ID']);
    const undocumented = [...names].filter((name) => !documented.has(name) && !perService.test(name) && !notSettings.has(name) && !name.startsWith('MAYFLY_DB_PASSWORD_'));
    expect(undocumented).toEqual([]);
  });
});

describe('EnvReader', () => {
  it('parses through the setting: default when unset or empty, bounds enforced with the variable named', () => {
    expect(new EnvReader({}).read(MAX_TTL_SECONDS)).toBe(3600);
    expect(new EnvReader({ MAYFLY_MAX_TTL_SECONDS: '' }).read(MAX_TTL_SECONDS)).toBe(3600);
    expect(new EnvReader({ MAYFLY_MAX_TTL_SECONDS: '60' }).read(MAX_TTL_SECONDS)).toBe(60);
    expect(() => new EnvReader({ MAYFLY_MAX_TTL_SECONDS: '0' }).read(MAX_TTL_SECONDS)).toThrow(/MAYFLY_MAX_TTL_SECONDS must be a whole number from 1 to 86400/);
    expect(() => new EnvReader({ MAYFLY_MAX_TTL_SECONDS: 'ten' }).read(MAX_TTL_SECONDS)).toThrow(MayflyError);
  });

  it('refuses a service reading a setting the registry does not list it as reading', () => {
    expect(new EnvReader({}, 'edge-verifier').read(MAX_TTL_SECONDS)).toBe(3600);
    expect(() => new EnvReader({}, 'audit').read(MAX_TTL_SECONDS)).toThrow(/audit reads MAYFLY_MAX_TTL_SECONDS, but the settings registry does not say so/);
    expect(new EnvReader({}, 'decision').read(SERVICE_PORT.forService('decision'))).toBe(7052);
    expect(() => new EnvReader({}, 'audit').read(SERVICE_PORT.forService('decision'))).toThrow(MayflyError);
  });
});
