import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestMesh } from './test-mesh.js';

/** What `mayfly audit verify --json` prints. */
export interface VerifyReport {
  intact: boolean;
  events: number;
  checkpointsChecked: number;
  problems: { kind: string; sequence: string; detail: string }[];
  completeness: { proven: boolean; reason?: string; through?: string };
}

/**
 * Runs `mayfly audit verify` against a test mesh as an auditor would: its database, the
 * checkpoint key (unless `trustedKey: false`), and the audit head on NATS (`nats` overrides
 * where). Only the flags count: no key from the environment or a state directory.
 */
export async function auditVerify(t: TestMesh, options: { trustedKey?: boolean; nats?: string } = {}): Promise<{ code: number; report: VerifyReport }> {
  const args = [
    join(process.cwd(), 'libs/cli/dist/main.js'),
    'audit',
    'verify',
    '--database-url',
    t.databaseUrl,
    ...(options.trustedKey === false ? [] : ['--public-key', t.mesh.env['MAYFLY_AUDIT_CHECKPOINT_KEY_FILE']!]),
    '--nats',
    options.nats ?? t.natsUrl,
    '--head-stream',
    t.mesh.env['MAYFLY_AUDIT_HEAD_STREAM']!,
    '--head-subject',
    t.mesh.env['MAYFLY_AUDIT_HEAD_SUBJECT']!,
    '--json',
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, MAYFLY_STATE_DIR: '/nonexistent-mayfly-state' };
  delete env['MAYFLY_AUDIT_CHECKPOINT_KEY_FILE'];
  try {
    const { stdout } = await promisify(execFile)(process.execPath, args, { env });
    return { code: 0, report: JSON.parse(stdout) as VerifyReport };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, report: JSON.parse(failed.stdout) as VerifyReport };
  }
}
