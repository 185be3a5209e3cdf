import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// Issue 24 (memory): a process that can make dynamic logins loads a database driver only when a
// grant uses it. mysql2 and redis add about 25 and 32 MB of RSS each; issuance and attestation
// import the connectors package on every start.

/** The bare module names a fresh Node process resolves while importing `modules`. */
function resolvedWhileImporting(modules: string[]): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({ resolve(specifier, context, next) { seen.add(specifier); return next(specifier, context); } });
    for (const m of ${JSON.stringify(modules)}) await import(m);
    console.log(JSON.stringify([...seen]));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8' })) as string[];
}

describe('connector drivers', () => {
  it('importing the connectors, issuance’s credential catalog and attestation’s resource check loads no driver', () => {
    const seen = resolvedWhileImporting(['@mayfly/connectors', './services/issuance/dist/adapters/credential-catalog.js', './services/attestation/dist/adapters/resource-check.js']);
    expect(seen).toContain('@mayfly/connectors');
    expect(seen.filter((name) => /^(mysql2|redis)(\/|$)/.test(name))).toEqual([]);
  });

  it('each connector entry point loads its own driver', () => {
    expect(resolvedWhileImporting(['@mayfly/connectors/mariadb'])).toContain('mysql2/promise');
    expect(resolvedWhileImporting(['@mayfly/connectors/redis'])).toContain('redis');
  });
});
