import { Writable } from 'node:stream';
import { EVIDENCE_TABLE, ISSUER_KINDS, ISSUER_KIND_NAMES, createLogger, isEvidenceIssuerKind, presentedEvidence } from '@mayfly/core';
import { Evidence, IssuerKind } from '@mayfly/proto';
import { describe, expect, it } from 'vitest';

// The contract's Evidence message, field by field, against core's evidence table: a field added
// to the proto without a row (and so without redaction or an attestor) fails here.
const contractFields = Object.keys(Evidence.fromPartial({})).sort();

function logged(line: object): string {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out += chunk.toString();
      done();
    },
  });
  createLogger('redaction-test', { destination: sink, level: 'info' }).info(line, 'test');
  return out;
}

describe('the evidence table', () => {
  it('has one row per field of the contract\'s Evidence message', () => {
    expect(EVIDENCE_TABLE.map((row) => row.field).sort()).toEqual(contractFields);
  });

  it.each(EVIDENCE_TABLE.map((row) => [row.field] as const))('the logger censors %s wherever it appears', (field) => {
    const secret = `secret-${field}-value`;
    for (const line of [{ [field]: secret }, { request: { [field]: secret } }, { evidence: { [field]: secret } }, { request: { evidence: { [field]: secret } } }]) {
      const out = logged(line);
      expect(out).toContain('redaction-test'); // the positive control: the line was written
      expect(out).not.toContain(secret);
    }
  });

  it('finds the presented evidence whatever its kind', () => {
    for (const row of EVIDENCE_TABLE) expect(presentedEvidence({ [row.field]: 'x' })).toBe('x');
    expect(presentedEvidence({})).toBeUndefined();
  });

  it('names issuer kinds that exist: each has a claim catalog and a contract enum value', () => {
    for (const row of EVIDENCE_TABLE) for (const kind of row.issuerKinds) expect(isEvidenceIssuerKind(kind)).toBe(true);
    for (const kind of ISSUER_KIND_NAMES) {
      expect(isEvidenceIssuerKind(kind)).toBe(true);
      expect(IssuerKind[ISSUER_KINDS[kind].contract]).toBeGreaterThan(0);
      expect(EVIDENCE_TABLE.find((row) => row.kind === ISSUER_KINDS[kind].evidence)?.issuerKinds).toContain(kind);
    }
  });

  it('covers every issuer kind of the contract but UNSPECIFIED', () => {
    const contract = Object.keys(IssuerKind).filter((name) => name.startsWith('ISSUER_KIND_') && name !== 'ISSUER_KIND_UNSPECIFIED');
    expect(ISSUER_KIND_NAMES.map((kind) => ISSUER_KINDS[kind].contract).sort()).toEqual(contract.sort());
  });
});
