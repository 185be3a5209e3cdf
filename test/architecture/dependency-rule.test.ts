import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The dependency rule (.dependency-cruiser.cjs) run as CI runs it, on the real tree and on
// fixtures that break each rule once, with a tidy fixture as the positive control.
interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

function cruise(...paths: string[]): Violation[] {
  const out = execFileSync(process.execPath, ['node_modules/dependency-cruiser/bin/dependency-cruiser.mjs', '--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...paths], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
}

const FIXTURES = 'test/architecture/fixtures';

describe('the dependency rule', () => {
  it('holds for libs/ and services/', () => {
    expect(cruise('libs', 'services').map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  }, 120_000);

  it('refuses a domain module that imports the database, a file API, or an infrastructure package', () => {
    const found = cruise(`${FIXTURES}/services/leaky/src/domain`).filter((v) => v.rule.name === 'domain-imports-only-core-and-its-ports');
    expect(found.map((v) => v.to).sort()).toEqual(['fs', 'libs/db/src/index.ts'].sort().map((to) => expect.stringContaining(to)));
  }, 60_000);

  it('refuses an api/ handler that imports kysely', () => {
    const found = cruise(`${FIXTURES}/services/leaky/src/api`);
    expect(found.map((v) => v.rule.name)).toContain('api-handlers-do-not-query-the-database');
  }, 60_000);

  it('refuses a lib that imports a service', () => {
    const found = cruise(`${FIXTURES}/libs/leaky`);
    expect(found.map((v) => v.rule.name)).toContain('libs-do-not-import-services');
  }, 60_000);

  it('accepts a domain module that imports only core, the model and its own ports (the positive control)', () => {
    expect(cruise(`${FIXTURES}/services/tidy`)).toEqual([]);
  }, 60_000);
});
